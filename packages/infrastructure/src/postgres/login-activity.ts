import { UserId, ValidationError, isPosAuthEvent, type LoginActivity, type LoginActivityReadModel, type PosAuthEvent } from '@pos-auth/domain';
import type { Pool } from 'pg';
import type { LoggedEvent } from './event-store.js';
import type { LogConsumer } from './subscription.js';

interface Patch {
  last_login_at?: string;
  last_login_client_id?: string;
  consecutive_failures?: number;
  last_failure_at?: string;
  last_failure_reason?: string;
}

/** A user's change in one batch: start from no row (`reset`), drop it (`gone`), then set `patch`. */
interface Change {
  reset: boolean;
  gone: boolean;
  patch: Patch;
}

const patchOf = (event: PosAuthEvent): { readonly userId: string; readonly patch: Patch | 'erase' } | null => {
  switch (event.type) {
    case 'TokenIssued':
      return {
        userId: event.data.userId,
        patch: { last_login_at: event.data.issuedAt, last_login_client_id: event.data.clientId, consecutive_failures: 0 },
      };
    case 'LoginFailed':
      // A name that belongs to nobody has no account to keep activity for.
      return event.data.userId === null
        ? null
        : {
            userId: event.data.userId,
            patch: { consecutive_failures: event.data.consecutiveFailures, last_failure_at: event.data.failedAt, last_failure_reason: event.data.reason },
          };
    case 'FailedLoginsCleared':
      return { userId: event.data.userId, patch: { consecutive_failures: 0 } };
    case 'UserErased':
      return { userId: event.data.userId, patch: 'erase' };
    default:
      return null;
  }
};

const columns = ['last_login_at', 'last_login_client_id', 'consecutive_failures', 'last_failure_at', 'last_failure_reason'] as const;
const columnTypes = { last_login_at: 'timestamptz', last_login_client_id: 'text', consecutive_failures: 'integer', last_failure_at: 'timestamptz', last_failure_reason: 'text' } as const;

/**
 * Folds a batch into one change per user, so the batch is two statements however many events it
 * holds (a first catch-up over a long log reads hundreds of thousands).
 */
const fold = (events: readonly LoggedEvent[]): Map<string, Change> => {
  const changes = new Map<string, Change>();
  for (const event of events) {
    if (!isPosAuthEvent(event)) continue;
    const found = patchOf(event as unknown as PosAuthEvent);
    if (found === null) continue;
    const change = changes.get(found.userId) ?? { reset: false, gone: false, patch: {} };
    if (found.patch === 'erase') changes.set(found.userId, { reset: true, gone: true, patch: {} });
    else changes.set(found.userId, { reset: change.reset, gone: false, patch: { ...change.patch, ...found.patch } });
  }
  return changes;
};

/**
 * The login-activity read model, kept by a subscription: per account, the last successful login
 * and the failed password logins since (`LoginFailed` carries the count of its user name), for
 * admins watching for attacks. Erasure deletes the account's row.
 */
export const loginActivityConsumer: LogConsumer = {
  name: 'login-activity',
  wakeOn: ['TokenIssued', 'LoginFailed', 'FailedLoginsCleared', 'UserErased'],
  async handle(events, transaction) {
    const changes = fold(events);
    if (changes.size === 0) return;
    const resets = [...changes].filter(([, change]) => change.reset).map(([userId]) => userId);
    if (resets.length > 0) await transaction.query('DELETE FROM login_activity WHERE user_id = ANY($1::text[])', [resets]);
    const kept = [...changes].filter(([, change]) => !change.gone);
    if (kept.length === 0) return;
    // Each column is set only for the users whose patch has it: a flag beside each value says so.
    const values: unknown[] = [kept.map(([userId]) => userId)];
    for (const column of columns) {
      values.push(kept.map(([, change]) => change.patch[column] ?? null), kept.map(([, change]) => change.patch[column] !== undefined));
    }
    const inputs = columns.map((column, index) => `$${2 * index + 2}::${columnTypes[column]}[], $${2 * index + 3}::boolean[]`);
    // The UPDATE does not see the rows the INSERT adds (one snapshot): each user is written once.
    await transaction.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], ${inputs.join(', ')}) AS i(user_id, ${columns.map((column) => `${column}, set_${column}`).join(', ')})
       ), inserted AS (
         INSERT INTO login_activity (user_id, ${columns.join(', ')})
         SELECT user_id, ${columns.map((column) => (column === 'consecutive_failures' ? `coalesce(${column}, 0)` : column)).join(', ')} FROM input
         ON CONFLICT (user_id) DO NOTHING
       )
       UPDATE login_activity a SET ${columns.map((column) => `${column} = CASE WHEN i.set_${column} THEN i.${column} ELSE a.${column} END`).join(', ')}
       FROM input i WHERE a.user_id = i.user_id`,
      values,
    );
  },
};

interface LoginActivityRow {
  user_id: string;
  last_login_at: Date | null;
  last_login_client_id: string | null;
  consecutive_failures: number;
  last_failure_at: Date | null;
  last_failure_reason: string | null;
}

/** Cursors are the last user id of a page, opaque to callers. */
const encodeCursor = (userId: string) => Buffer.from(userId, 'utf8').toString('base64url');
const decodeCursor = (cursor: string): string | null => {
  const userId = Buffer.from(cursor, 'base64url').toString('utf8');
  return encodeCursor(userId) === cursor ? userId : null;
};

/**
 * The login-activity read model on PostgreSQL: keyset pages by user id.
 *
 * @example
 * const { items, nextCursor } = await createPostgresLoginActivity(pool).listLoginActivity({ limit: 50, cursor: null, minConsecutiveFailures: 3 });
 */
export const createPostgresLoginActivity = (pool: Pool): LoginActivityReadModel => ({
  async listLoginActivity(query) {
    const after = query.cursor === null ? null : decodeCursor(query.cursor);
    if (query.cursor !== null && after === null) throw new ValidationError([{ path: 'cursor', message: 'is not a cursor of this service' }]);
    const { rows } = await pool.query<LoginActivityRow>(
      `SELECT user_id, last_login_at, last_login_client_id, consecutive_failures, last_failure_at, last_failure_reason
       FROM login_activity
       WHERE ($1::text IS NULL OR user_id > $1) AND ($2::text IS NULL OR user_id = $2) AND consecutive_failures >= $3
       ORDER BY user_id LIMIT $4`,
      [after, query.userId ?? null, query.minConsecutiveFailures ?? 0, query.limit + 1],
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(
        (row): LoginActivity => ({
          userId: UserId(row.user_id),
          lastLoginAt: row.last_login_at?.toISOString() ?? null,
          lastLoginClientId: row.last_login_client_id,
          consecutiveFailures: row.consecutive_failures,
          lastFailureAt: row.last_failure_at?.toISOString() ?? null,
          lastFailureReason: row.last_failure_reason,
        }),
      ),
      nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.user_id) : null,
    };
  },
});
