import {
  assertNever,
  type ClientRegistered,
  type DomainEvent,
  type PosAuthEvent,
  type RecordedEvent,
  type SessionRevoked,
  type TokenIssued,
  type TokenRefreshed,
  type UserRegistered,
} from '@pos-auth/domain';
import type pg from 'pg';
import { eventColumns, toRecordedEvent, type EventRow } from './event-rows.js';
import { inTransaction } from './transaction.js';

/** One `RecordedEvent` per event type, so that a `switch` on `type` narrows `data`. */
export type RecordedPosAuthEvent = PosAuthEvent extends infer E
  ? E extends DomainEvent
    ? RecordedEvent<E>
    : never
  : never;

/** A connection inside the append (or rebuild) transaction. */
type Db = Pick<pg.ClientBase, 'query'>;

/** Every type of `PosAuthEvent`; the `Record` fails to compile when the domain adds one. */
const posAuthEventTypes: Record<PosAuthEvent['type'], true> = {
  UserRegistered: true,
  LoginFailed: true,
  TokenIssued: true,
  TokenRefreshed: true,
  SessionRevoked: true,
  ClientRegistered: true,
};

/**
 * Whether the projections know this event's type. The store accepts any event type; a type
 * this code does not know (written by newer code, or by a test) has no projection.
 */
export const isPosAuthEvent = (event: RecordedEvent): event is RecordedPosAuthEvent =>
  Object.hasOwn(posAuthEventTypes, event.type);

const projectUserRegistered = async (db: Db, { data }: RecordedEvent<UserRegistered>): Promise<void> => {
  // The key is the one decided at registration and recorded in the event: a rebuild gives the
  // same rows even after the normalization rules change.
  await db.query(
    `INSERT INTO users (user_id, user_name, user_name_key, email, name, role, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
    [data.userId, data.userName, data.userNameKey, data.email, data.name, data.role, data.registeredAt],
  );
};

const projectTokenPair = async (
  db: Db,
  { data }: RecordedEvent<TokenIssued> | RecordedEvent<TokenRefreshed>,
): Promise<void> => {
  // One statement for both tables: this runs on every login and refresh.
  await db.query(
    `WITH refresh AS (INSERT INTO refresh_tokens (digest, session_id) VALUES ($1, $2))
     INSERT INTO access_tokens (digest, session_id, user_id, client_id, expires_at)
     VALUES ($3, $2, $4, $5, $6)`,
    [
      data.refreshTokenDigest,
      data.sessionId,
      data.accessTokenDigest,
      data.userId,
      data.clientId,
      data.accessTokenExpiresAt,
    ],
  );
};

const projectSessionRevoked = async (db: Db, { data }: RecordedEvent<SessionRevoked>): Promise<void> => {
  // Its access tokens stop working at once; its refresh tokens stay, so that a revoked session's
  // token is still recognised (and refused by the session) rather than reported unknown.
  await db.query('DELETE FROM access_tokens WHERE session_id = $1', [data.sessionId]);
};

const projectClientRegistered = async (db: Db, { data }: RecordedEvent<ClientRegistered>): Promise<void> => {
  await db.query('INSERT INTO clients (client_id, registered_at) VALUES ($1, $2)', [data.clientId, data.registeredAt]);
};

/**
 * Brings the inline projections up to date with one event. Called in the append transaction, so
 * a read after the append sees it, and by `rebuildProjections`, so both give the same rows.
 */
export const applyToProjections = async (db: Db, event: RecordedPosAuthEvent): Promise<void> => {
  switch (event.type) {
    case 'UserRegistered':
      return projectUserRegistered(db, event);
    case 'LoginFailed':
      return; // audit only: no read needs it yet
    case 'TokenIssued':
    case 'TokenRefreshed':
      return projectTokenPair(db, event);
    case 'SessionRevoked':
      return projectSessionRevoked(db, event);
    case 'ClientRegistered':
      return projectClientRegistered(db, event);
    default:
      return assertNever(event);
  }
};

/** The tables `rebuildProjections` empties and refills: never the log, claims or credentials. */
export const projectionTables = ['users', 'refresh_tokens', 'access_tokens', 'clients'] as const;

const replayBatchSize = 500;

/**
 * Empties the projection tables and replays the whole log through the same handlers as the
 * append, in one transaction: readers see the old rows until it commits, then the new ones.
 * For a projection whose code changed, or one suspected to have drifted.
 *
 * Appends wait while it runs: TRUNCATE holds the projection tables exclusively, so an append's
 * projection writes queue behind it, and the log is read only after that lock is held (each
 * statement of a READ COMMITTED transaction sees what committed before it), so no event is
 * missed and none is applied twice.
 *
 * @example
 * const { replayed } = await rebuildProjections(pool);
 */
export const rebuildProjections = async (pool: pg.Pool): Promise<{ readonly replayed: number }> =>
  inTransaction(pool, async (client) => {
    await client.query(`TRUNCATE ${projectionTables.join(', ')}`);
    let replayed = 0;
    let after = '0';
    for (;;) {
      // Global order keeps each stream's events in stream order (a stream's appends serialize).
      const { rows } = await client.query<EventRow>(
        `SELECT ${eventColumns} FROM events WHERE global_position > $1::bigint ORDER BY global_position LIMIT $2`,
        [after, replayBatchSize],
      );
      for (const row of rows) {
        const event = toRecordedEvent(row);
        if (isPosAuthEvent(event)) await applyToProjections(client, event);
      }
      replayed += rows.length;
      const last = rows.at(-1);
      if (last === undefined || rows.length < replayBatchSize) return { replayed };
      after = last.global_position;
    }
  });
