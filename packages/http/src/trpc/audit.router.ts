import { exportAuditEvents, listLoginActivity, queryAuditEvents } from '@pos-auth/domain';
import { z } from 'zod';
import { auditFields, loginActivityFields, toAuditQuery, toLoginActivityQuery } from '../audit-input.js';
import { authedProcedure, router } from './init.js';

const optional = <S extends Record<string, z.ZodType>>(shape: S) => z.strictObject(shape).partial();

/** The audit queries of API.md, as `GET /audit/events` and `GET /audit/login-activity` answer them. */
export const auditRouter = router({
  /** A page of the log in commit order: `{ items, nextCursor }`. */
  events: authedProcedure
    .input(optional(auditFields).default({}))
    .query(({ ctx, input }) => queryAuditEvents(ctx.deps, ctx.principal, toAuditQuery(input))),
  /** Per account: the last login and the failed logins since. */
  loginActivity: authedProcedure
    .input(optional(loginActivityFields).default({}))
    .query(({ ctx, input }) => listLoginActivity(ctx.deps, ctx.principal, toLoginActivityQuery(input))),
});
