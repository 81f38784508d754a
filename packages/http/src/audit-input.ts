import { SessionId, UserId, auditPageLimits, loginActivityPageLimits, type AuditEvent, type AuditQuery, type LoginActivityQuery } from '@pos-auth/domain';
import { z } from 'zod';

/** What an audit query accepts, field by field: REST and tRPC name them differently, and check them alike. */
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu, 'must be a UUID');
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO 8601 date or date-time (with Z or an offset)' })
  .transform((value) => new Date(value));
const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const eventType = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/u, 'must be an event type name such as LoginFailed');

export const auditFields = {
  userId: uuid,
  sessionId: uuid,
  clientId: text(128),
  types: z.array(eventType).max(50, 'must name at most 50 types'),
  ip: text(64),
  requestId: text(128),
  from: instant,
  to: instant,
  userName: text(256),
  cursor: text(256),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(auditPageLimits.max, `must be at most ${auditPageLimits.max}`),
} as const;

type AuditFields = { [K in keyof typeof auditFields]?: z.output<(typeof auditFields)[K]> | undefined };

export const toAuditQuery = (input: AuditFields): AuditQuery => ({
  userId: input.userId === undefined ? undefined : UserId(input.userId.toLowerCase()),
  sessionId: input.sessionId === undefined ? undefined : SessionId(input.sessionId.toLowerCase()),
  clientId: input.clientId,
  types: input.types,
  ip: input.ip,
  requestId: input.requestId,
  from: input.from,
  to: input.to,
  userName: input.userName,
  cursor: input.cursor ?? null,
  limit: input.limit,
});

export const loginActivityFields = {
  userId: uuid,
  minConsecutiveFailures: z.number().int('must be a whole number').min(0, 'must be at least 0'),
  cursor: text(256),
  limit: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(loginActivityPageLimits.max, `must be at most ${loginActivityPageLimits.max}`),
} as const;

type LoginActivityFields = { [K in keyof typeof loginActivityFields]?: z.output<(typeof loginActivityFields)[K]> | undefined };

export const toLoginActivityQuery = (input: LoginActivityFields): LoginActivityQuery => ({
  userId: input.userId === undefined ? undefined : UserId(input.userId.toLowerCase()),
  minConsecutiveFailures: input.minConsecutiveFailures,
  cursor: input.cursor ?? null,
  limit: input.limit ?? loginActivityPageLimits.default,
});

/** An event as REST and the CLI show it (API.md, "Audit"). */
export const auditEventResource = (event: AuditEvent) => ({
  position: event.position,
  stream_id: event.streamId,
  type: event.type,
  recorded_at: event.recordedAt,
  data: event.data,
  metadata: event.metadata,
});
