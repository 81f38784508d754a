import {
  changePasswordInput,
  eraseUserInput,
  listUsersInput,
  registerInput,
  resetPasswordInput,
  updateUserInput,
  userPageView,
  userView,
} from '@pos-auth/contract';
import { changeOwnPassword, eraseUser, getUser, listUsers, registerUser, resetPassword, updateUser } from '@pos-auth/domain';
import { identifyRegistrant, requireCurrentUser } from '../callers.js';
import { userIdOf } from '../ids.js';
import { authedProcedure, publicProcedure, router } from './init.js';

/** Accounts: the same use cases as `/users` on REST, which decide who may do what. */
export const usersRouter = router({
  /** As `POST /users`: self-registration, or an admin (Bearer token) creating any role. */
  register: publicProcedure
    .input(registerInput)
    .output(userView)
    .mutation(async ({ ctx, input }) => {
      const actor = await identifyRegistrant(ctx.deps, ctx.authorization());
      if (actor.clientId !== null) ctx.noteClient(actor.clientId);
      return registerUser(ctx.deps, input, actor, ctx.requestContext);
    }),
  /** As `GET /users/me`. */
  me: publicProcedure.output(userView).query(async ({ ctx }) => {
    const { principal, user } = await requireCurrentUser(ctx.deps, ctx.authorization());
    ctx.noteClient(principal.clientId);
    return user;
  }),
  /** As `GET /users` (admin): `{ items, nextCursor }`. */
  list: authedProcedure
    .input(listUsersInput)
    .output(userPageView)
    .query(({ ctx, input: { cursor, ...query } }) => listUsers(ctx.deps, ctx.principal, { ...query, cursor: cursor ?? null })),
  /** As `PATCH /users/{id}` (admin): the updated user. */
  update: authedProcedure
    .input(updateUserInput)
    .output(userView)
    .mutation(({ ctx, input: { userId, ...changes } }) => updateUser(ctx.deps, ctx.principal, userIdOf(userId), changes, ctx.requestContext)),
  /** As `POST /users/me/password`: ends the caller's other sessions. */
  changePassword: authedProcedure
    .input(changePasswordInput)
    .mutation(({ ctx, input }) => changeOwnPassword(ctx.deps, ctx.principal, input, ctx.requestContext)),
  /** As `POST /users/{id}/password` (admin): ends every session of that user. */
  resetPassword: authedProcedure
    .input(resetPasswordInput)
    .mutation(({ ctx, input }) => resetPassword(ctx.deps, ctx.principal, userIdOf(input.userId), input.newPassword, ctx.requestContext)),
  /** As `DELETE /users/{id}` (admin): erases the person and ends their sessions. */
  erase: authedProcedure
    .input(eraseUserInput)
    .mutation(({ ctx, input }) => eraseUser(ctx.deps, ctx.principal, userIdOf(input.userId), ctx.requestContext)),
});
