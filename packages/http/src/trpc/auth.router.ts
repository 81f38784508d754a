import { grantInput, introspectionView, logoutInput, refreshInput, tokenInput, tokenSet } from '@pos-auth/contract';
import { authenticateClient, introspect, logout, refreshToken, revokeToken } from '@pos-auth/domain';
import { requireClientCredentials } from '../callers.js';
import { grantToken } from '../token-grants.js';
import { authedProcedure, publicProcedure, router } from './init.js';

/** Tokens: grants, logout, revocation and introspection, as `/auth/*` and `/oauth/*` on REST. */
export const authRouter = router({
  /** As `POST /auth/token`, with the client's credentials in `Authorization: Basic`. */
  token: publicProcedure
    .input(grantInput)
    .output(tokenSet)
    .mutation(({ ctx, input }) => grantToken(ctx.deps, requireClientCredentials(ctx.authorization()), input, ctx.requestContext, ctx.noteClient)),
  /** As `POST /auth/refresh-token`: rotates the refresh token. */
  refresh: publicProcedure
    .input(refreshInput)
    .output(tokenSet)
    .mutation(({ ctx, input }) => refreshToken(ctx.deps, { refreshToken: input.refreshToken, clientId: null }, ctx.requestContext)),
  /** As `POST /auth/logout`: ends the caller's current session (default), their others, or all. */
  logout: authedProcedure.input(logoutInput).mutation(({ ctx, input }) => logout(ctx.deps, ctx.principal, input.scope, ctx.requestContext)),
  /** As `POST /oauth/revoke` (RFC 7009), the client's credentials in `Authorization: Basic`. */
  revoke: publicProcedure.input(tokenInput).mutation(async ({ ctx, input }) => {
    const clientId = await authenticateClient(ctx.deps, requireClientCredentials(ctx.authorization()));
    ctx.noteClient(clientId);
    await revokeToken(ctx.deps, clientId, input.token, ctx.requestContext);
  }),
  /**
   * As `POST /oauth/introspect` (RFC 7662), the client's credentials in `Authorization: Basic`. A
   * mutation, although it changes nothing: a query's input would put the token in the URL.
   */
  introspect: publicProcedure
    .input(tokenInput)
    .output(introspectionView)
    .mutation(async ({ ctx, input }) => {
      ctx.noteClient(await authenticateClient(ctx.deps, requireClientCredentials(ctx.authorization())));
      return introspect(ctx.deps, input.token);
    }),
});
