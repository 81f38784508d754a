import { ValidationError, type FieldError } from '../shared/errors.js';
import { loginAttemptsStreamId, type SessionId, type UserId } from '../shared/ids.js';
import type { AuditEvent, AuditFilter, LoginActivity, LoginActivityQuery, Page } from '../ports.js';
import { userNameKeyOf } from '../user/user-name.js';
import { requireAdmin } from './access.js';
import type { AuthDeps, Principal } from './deps.js';

/** What an auditor asks for (API.md, "Audit"); every filter given must match. */
export interface AuditQuery {
  readonly userId?: UserId | undefined;
  readonly sessionId?: SessionId | undefined;
  readonly clientId?: string | undefined;
  readonly types?: readonly string[] | undefined;
  readonly ip?: string | undefined;
  readonly requestId?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** As typed: compared as logins compare it, so it finds what was typed at failed logins too. */
  readonly userName?: string | undefined;
  readonly cursor?: string | null | undefined;
  readonly limit?: number | undefined;
}

export const auditPageLimits = { default: 100, max: 1000 } as const;

export type AuditDeps = Pick<AuthDeps, 'auditLog' | 'pseudonymizer'>;

/**
 * An IPv4 address as a dual-stack server may have recorded it: dotted, or IPv4-mapped IPv6
 * (`::ffff:203.0.113.7`). Either form finds both.
 */
const writtenForms = (ip: string): string[] => {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/iu.exec(ip)?.[1];
  return v4 === undefined ? [ip] : [v4, `::ffff:${v4}`];
};

const filterOf = (deps: AuditDeps, query: AuditQuery): AuditFilter => {
  const errors: FieldError[] = [];
  if (query.from !== undefined && query.to !== undefined && query.to.getTime() <= query.from.getTime()) {
    errors.push({ path: 'to', message: 'must be after from' });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  // The key and the digest a login computes for the same typed text: the failed logins typed with
  // it are in the stream of that digest, whether or not the text is a valid user name.
  const userName =
    query.userName === undefined
      ? undefined
      : (() => {
          const key = userNameKeyOf(query.userName);
          return { key, attemptsStreamId: loginAttemptsStreamId(deps.pseudonymizer.userName(key)) };
        })();
  return {
    userId: query.userId,
    sessionId: query.sessionId,
    clientId: query.clientId,
    types: query.types === undefined || query.types.length === 0 ? undefined : [...new Set(query.types)],
    ips: query.ip === undefined ? undefined : writtenForms(query.ip),
    requestId: query.requestId,
    from: query.from,
    to: query.to,
    userName,
  };
};

const limitOf = (limit: number | undefined): number => {
  const value = limit ?? auditPageLimits.default;
  if (!Number.isInteger(value) || value < 1 || value > auditPageLimits.max) {
    throw new ValidationError([{ path: 'limit', message: `must be a whole number from 1 to ${auditPageLimits.max}` }]);
  }
  return value;
};

/**
 * One page of the events matching `query`, in commit order, for a caller already allowed to read
 * the log (the CLI, run by an operator with database access). Transports for remote callers use
 * `queryAuditEvents`, which checks the caller first.
 */
export const readAuditEvents = async (deps: AuditDeps, query: AuditQuery): Promise<Page<AuditEvent>> =>
  deps.auditLog.readEvents(filterOf(deps, query), { after: query.cursor ?? null, limit: limitOf(query.limit) });

/**
 * Every event matching `query` from its cursor on, page after page, to the end of what is readable
 * (an empty page): an export that holds one page in memory at a time. Pages are read as the
 * consumer asks for them, so a slow consumer slows the reading instead of filling memory.
 */
export const readAllAuditEvents = (deps: AuditDeps, query: Omit<AuditQuery, 'limit'>, pageSize = auditPageLimits.max): AsyncIterable<AuditEvent> => {
  const filter = filterOf(deps, query);
  const limit = limitOf(pageSize);
  return {
    async *[Symbol.asyncIterator]() {
      let after = query.cursor ?? null;
      do {
        const page = await deps.auditLog.readEvents(filter, { after, limit });
        yield* page.items;
        after = page.nextCursor;
      } while (after !== null);
    },
  };
};

/**
 * `GET /audit/events`: a page of the log, admins only.
 *
 * @example
 * const page = await queryAuditEvents(deps, principal, { userName: 'ana', types: ['LoginFailed'], limit: 50 });
 * const next = await queryAuditEvents(deps, principal, { userName: 'ana', types: ['LoginFailed'], cursor: page.nextCursor });
 */
export const queryAuditEvents = async (deps: AuditDeps, principal: Principal, query: AuditQuery): Promise<Page<AuditEvent>> => {
  requireAdmin(principal, 'read the audit log');
  return readAuditEvents(deps, query);
};

/**
 * `GET /audit/events` as an NDJSON export: every matching event, admins only. The caller is
 * checked, and the query validated, before anything is read, so that a refusal can still be an
 * ordinary error response.
 *
 * @example
 * for await (const event of exportAuditEvents(deps, principal, { types: ['LoginFailed'] })) write(event);
 */
export const exportAuditEvents = (deps: AuditDeps, principal: Principal, query: Omit<AuditQuery, 'limit'>): AsyncIterable<AuditEvent> => {
  requireAdmin(principal, 'read the audit log');
  return readAllAuditEvents(deps, query);
};

export const loginActivityPageLimits = { default: 50, max: 200 } as const;

/**
 * `GET /audit/login-activity`, admins only: per user, the last login and the failures since, as
 * the login-activity consumer keeps them.
 *
 * @example
 * const { items } = await listLoginActivity(deps, principal, { limit: 50, cursor: null, minConsecutiveFailures: 3 });
 */
export const listLoginActivity = async (
  deps: Pick<AuthDeps, 'loginActivity'>,
  principal: Principal,
  query: LoginActivityQuery,
): Promise<Page<LoginActivity>> => {
  requireAdmin(principal, 'read login activity');
  return deps.loginActivity.listLoginActivity(query);
};
