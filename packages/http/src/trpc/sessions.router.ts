import { endSessionInput, listSessionsInput, sessionView } from '@pos-auth/contract';
import { endSession, listSessions } from '@pos-auth/domain';
import { z } from 'zod';
import { sessionIdOf, userIdOf } from '../ids.js';
import { authedProcedure, router } from './init.js';

/** Session listings: without `userId` the caller's own, with one (an admin's call) that user's. */
export const sessionsRouter = router({
  /** As `GET /users/me/sessions` and `GET /users/{id}/sessions`. */
  list: authedProcedure
    .input(listSessionsInput)
    .output(z.array(sessionView))
    .query(({ ctx, input }) => listSessions(ctx.deps, ctx.principal, input.userId === undefined ? ctx.principal.userId : userIdOf(input.userId))),
  /** As `DELETE /users/me/sessions/{id}` and `DELETE /users/{id}/sessions/{sid}`. */
  end: authedProcedure
    .input(endSessionInput)
    .mutation(({ ctx, input }) =>
      endSession(
        ctx.deps,
        ctx.principal,
        input.userId === undefined ? ctx.principal.userId : userIdOf(input.userId),
        sessionIdOf(input.sessionId),
        ctx.requestContext,
      ),
    ),
});
