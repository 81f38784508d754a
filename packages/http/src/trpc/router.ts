import { getUser, refreshToken, registerUser, roles } from '@pos-auth/domain';
import { identifyRegistrant, requireClientCredentials } from '../callers.js';
import { z } from 'zod';
import { grantToken } from '../token-grants.js';
import { auditRouter } from './audit.router.js';
import { authedProcedure, publicProcedure, router } from './init.js';

const usersRouter = router({
  /** As `POST /users`: self-registration, or an admin (Bearer token) creating any role. */
  register: publicProcedure
    .input(
      z.object({
        userName: z.string(),
        password: z.string(),
        email: z.string().nullish(),
        name: z.string().nullish(),
        role: z.enum(roles).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const actor = await identifyRegistrant(ctx.deps, ctx.authorization());
      return registerUser(ctx.deps, input, actor, ctx.requestContext);
    }),
  /** As `GET /users/me`. */
  me: authedProcedure.query(({ ctx }) => getUser(ctx.deps, ctx.principal, ctx.principal.userId)),
});

const authRouter = router({
  /** As `POST /auth/token`, with the client's credentials in `Authorization: Basic`. */
  token: publicProcedure
    .input(
      z.discriminatedUnion('grantType', [
        z.object({ grantType: z.literal('password'), userName: z.string(), password: z.string(), scope: z.string().optional() }),
        z.object({ grantType: z.literal('refresh_token'), refreshToken: z.string() }),
      ]),
    )
    .mutation(({ ctx, input }) =>
      grantToken(ctx.deps, requireClientCredentials(ctx.authorization()), input, ctx.requestContext),
    ),
  /** As `POST /auth/refresh-token`: rotates the refresh token. */
  refresh: publicProcedure
    .input(z.object({ refreshToken: z.string() }))
    .mutation(({ ctx, input }) =>
      refreshToken(ctx.deps, { refreshToken: input.refreshToken, clientId: null }, ctx.requestContext),
    ),
});

export const appRouter = router({ users: usersRouter, auth: authRouter, audit: auditRouter });

/** The router's type: what `@pos-auth/sdk` builds its typed tRPC client on. */
export type AppRouter = typeof appRouter;
