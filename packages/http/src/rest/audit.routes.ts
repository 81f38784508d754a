import { Router, type Request, type Response } from 'express';
import { exportAuditEvents, listLoginActivity, queryAuditEvents, type AuditEvent, type AuthDeps, type FieldError, type LoginActivity } from '@pos-auth/domain';
import { z } from 'zod';
import { auditEventResource, auditFields, loginActivityFields, toAuditQuery, toLoginActivityQuery } from '../audit-input.js';
import { requirePrincipal } from '../callers.js';
import { readAuthorization } from './credentials.js';
import { invalidRequest, methodNotAllowed } from './errors.js';

/** A whole number given as a query string. */
const wholeNumber = <T extends z.ZodType<number, number>>(schema: T) =>
  z
    .string()
    .regex(/^\d{1,9}$/u, 'must be a whole number')
    .transform(Number)
    .pipe(schema);

const eventsParameters = {
  user_id: auditFields.userId,
  session_id: auditFields.sessionId,
  client_id: auditFields.clientId,
  // Repeatable: `type=A&type=B`.
  type: z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value])).pipe(auditFields.types),
  ip: auditFields.ip,
  request_id: auditFields.requestId,
  from: auditFields.from,
  to: auditFields.to,
  user_name: auditFields.userName,
  cursor: auditFields.cursor,
  limit: wholeNumber(auditFields.limit),
};

const loginActivityParameters = {
  user_id: loginActivityFields.userId,
  min_failures: wholeNumber(loginActivityFields.minConsecutiveFailures),
  cursor: loginActivityFields.cursor,
  limit: wholeNumber(loginActivityFields.limit),
};

/**
 * Reads the query string: every parameter known, each once unless it is `repeatable`, each valid.
 * An unknown filter is refused rather than ignored: a misspelt one would answer with everything.
 */
const parseQuery = <S extends Record<string, z.ZodType>>(req: Request, shape: S, repeatable: readonly string[] = []) => {
  const errors: FieldError[] = [];
  const given = req.query as Record<string, unknown>;
  for (const [name, value] of Object.entries(given)) {
    if (!(name in shape)) errors.push({ path: name, message: 'is not a parameter of this endpoint' });
    else if (Array.isArray(value) && !repeatable.includes(name)) errors.push({ path: name, message: 'is given more than once' });
  }
  if (errors.length === 0) {
    const parsed = z.object(shape).partial().safeParse(given);
    if (parsed.success) return parsed.data as { [K in keyof S]?: z.output<S[K]> };
    errors.push(...parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(query)', message: issue.message })));
  }
  throw invalidRequest(errors.map((error) => `${error.path} ${error.message}`).join('; '), errors);
};

const loginActivityResource = (activity: LoginActivity) => ({
  user_id: activity.userId,
  last_login_at: activity.lastLoginAt,
  last_login_client_id: activity.lastLoginClientId,
  consecutive_failures: activity.consecutiveFailures,
  last_failure_at: activity.lastFailureAt,
  last_failure_reason: activity.lastFailureReason,
});

/** Until the client took what was written, or went away. */
const drainedOrClosed = (res: Response) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

const ndjson = 'application/x-ndjson';
/** Lines are sent in chunks of about this size, not one write per event. */
const chunkBytes = 64 * 1024;

/**
 * Streams every event as one JSON line each. Nothing is sent before the first page is read, so a
 * refusal (a bad cursor) is still an ordinary error response; a failure after that ends the
 * response abruptly, which a client sees as a truncated stream. Writing waits for the client to
 * take what was sent, and stops reading when it goes away.
 */
const streamEvents = async (res: Response, events: AsyncIterable<AuditEvent>) => {
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  let chunk = '';
  let started = false;
  const send = async () => {
    if (!started) {
      res.status(200).type(ndjson).set('Cache-Control', 'no-store');
      started = true;
    }
    if (chunk !== '' && !res.write(chunk)) await drainedOrClosed(res);
    chunk = '';
  };
  for await (const event of events) {
    if (closed) return;
    chunk += `${JSON.stringify(auditEventResource(event))}\n`;
    if (chunk.length >= chunkBytes) await send();
  }
  if (closed) return;
  await send();
  res.end();
};

/** `GET /audit/events` and `GET /audit/login-activity` (API.md, "Audit"), admins only. */
export const auditRoutes = (deps: AuthDeps): Router => {
  const router = Router();

  router
    .route('/audit/events')
    .get(async (req, res) => {
      const principal = await requirePrincipal(deps, readAuthorization(req));
      const given = parseQuery(req, eventsParameters, ['type']);
      const query = toAuditQuery({
        userId: given.user_id,
        sessionId: given.session_id,
        clientId: given.client_id,
        types: given.type,
        ip: given.ip,
        requestId: given.request_id,
        from: given.from,
        to: given.to,
        userName: given.user_name,
        cursor: given.cursor,
        limit: given.limit,
      });
      if (req.accepts(['application/json', ndjson]) === ndjson) {
        await streamEvents(res, exportAuditEvents(deps, principal, query));
        return;
      }
      const page = await queryAuditEvents(deps, principal, query);
      res.set('Cache-Control', 'no-store').json({ items: page.items.map(auditEventResource), next_cursor: page.nextCursor });
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/audit/login-activity')
    .get(async (req, res) => {
      const principal = await requirePrincipal(deps, readAuthorization(req));
      const parameters = parseQuery(req, loginActivityParameters);
      const page = await listLoginActivity(
        deps,
        principal,
        toLoginActivityQuery({ userId: parameters.user_id, minConsecutiveFailures: parameters.min_failures, cursor: parameters.cursor, limit: parameters.limit }),
      );
      res.set('Cache-Control', 'no-store').json({ items: page.items.map(loginActivityResource), next_cursor: page.nextCursor });
    })
    .all(methodNotAllowed('GET'));

  return router;
};
