import {
  ClaimTakenError,
  WrongExpectedVersionError,
  type AppendOptions,
  type Claim,
  type CredentialWrite,
  type DomainEvent,
  type EventStore,
  type ExpectedVersion,
  type RecordedEvent,
} from '@pos-auth/domain';
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import { eventColumns, toRecordedEvent, type EventRow } from './event-rows.js';
import { applyToProjections, isPosAuthEvent } from './projections.js';
import { inTransaction } from './transaction.js';

/**
 * Where a reader of the whole log stands: the writing transaction and global position of the
 * last event it read. Opaque to callers: store it and pass it back as `after`.
 */
export interface LogPosition {
  readonly transactionId: string;
  readonly globalPosition: string;
}

/** Before the first event. */
export const logStart: LogPosition = { transactionId: '0', globalPosition: '0' };

/** An event read from the whole log, with the position to resume after it. */
export interface LoggedEvent extends RecordedEvent {
  readonly logPosition: LogPosition;
}

export interface ReadAllOptions {
  /** Read the events after this position; from the start when absent. */
  readonly after?: LogPosition;
  /** At most this many events (default `defaultReadAllLimit`). */
  readonly limit?: number;
}

export const defaultReadAllLimit = 1000;

export interface PostgresEventStore extends EventStore {
  /**
   * The whole log in commit-safe order, for auditors and subscriptions: by writing transaction,
   * then global position, and only events of transactions older than every transaction still
   * running. A transaction that began earlier but commits later is therefore never skipped: its
   * events show up once it ends, still after the cursor. Returns the position to pass as `after`
   * next time (the given one when nothing new is readable yet).
   */
  readAll(
    options?: ReadAllOptions,
  ): Promise<{ readonly events: readonly LoggedEvent[]; readonly position: LogPosition }>;
}

const sqlState = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

/** Constraints whose violation means another writer appended to the stream first. */
const streamConstraints = new Set(['streams_pkey', 'events_stream_position_unique']);

const checkExpectedVersion = (expected: ExpectedVersion): void => {
  if (expected === 'any' || expected === 'no_stream') return;
  if (!Number.isInteger(expected) || expected < 0) {
    throw new TypeError(`expectedVersion must be 'any', 'no_stream' or a whole number from 0, got ${String(expected)}`);
  }
};

/**
 * The CTE that moves the stream's version row on by $2 events, returning the new version, or no
 * row when the stream is not at the expected version. The row lock it takes makes concurrent
 * appends to one stream take turns, and the loser of a race sees the winner's version.
 * Version 0 is the absent stream: streams rows exist only once a stream has events.
 */
const advanceStream = (expected: ExpectedVersion): { readonly sql: string; readonly params: readonly unknown[] } => {
  if (expected === 'any') {
    return {
      sql: `INSERT INTO streams (stream_id, version) VALUES ($1, $2)
            ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version
            RETURNING version`,
      params: [],
    };
  }
  if (expected === 'no_stream' || expected === 0) {
    // A concurrent creator makes this a unique violation of streams_pkey, once it commits.
    return { sql: 'INSERT INTO streams (stream_id, version) VALUES ($1, $2) RETURNING version', params: [] };
  }
  return {
    sql: 'UPDATE streams SET version = version + $2 WHERE stream_id = $1 AND version = $5 RETURNING version',
    params: [expected],
  };
};

const appendEvents = async (
  client: PoolClient,
  streamId: string,
  events: readonly DomainEvent[],
  options: AppendOptions,
): Promise<RecordedEvent[]> => {
  const stream = advanceStream(options.expectedVersion);
  // Version check and event rows in one statement: one round trip on the login and refresh path.
  const { rows } = await client.query<{ stream_position: number; global_position: string; recorded_at: Date }>(
    `WITH stream AS (${stream.sql})
     INSERT INTO events (stream_id, stream_position, type, data, metadata)
     SELECT $1, stream.version - $2 + e.ordinality, e.event->>'type', e.event->'data', $3::jsonb
     FROM stream CROSS JOIN jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(event, ordinality)
     ORDER BY e.ordinality
     RETURNING stream_position, global_position::text AS global_position, recorded_at`,
    [
      streamId,
      events.length,
      JSON.stringify(options.metadata),
      JSON.stringify(events.map(({ type, data }) => ({ type, data }))),
      ...stream.params,
    ],
  );
  if (rows.length === 0) throw new WrongExpectedVersionError(streamId, String(options.expectedVersion));
  const written = [...rows].sort((a, b) => a.stream_position - b.stream_position);
  return written.map((row, index) => {
    const event = events[index] as DomainEvent;
    return {
      streamId,
      streamPosition: row.stream_position,
      globalPosition: BigInt(row.global_position),
      type: event.type,
      data: event.data,
      metadata: options.metadata,
      recordedAt: row.recorded_at,
    };
  });
};

/**
 * Inserts all claims in one statement. ON CONFLICT DO NOTHING waits for a concurrent claimer of
 * the same value and skips the value if that one commits, so the rows it returns are exactly the
 * claims this append won, under races too. Sorted, so that two appends claiming the same values
 * lock them in the same order and cannot deadlock.
 */
const insertClaims = async (client: PoolClient, streamId: string, claims: readonly Claim[]): Promise<void> => {
  const sorted = [...claims].sort((a, b) =>
    a.kind === b.kind ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.kind < b.kind ? -1 : 1,
  );
  const { rows } = await client.query<{ kind: string; value: string }>(
    `INSERT INTO claims (kind, value, stream_id)
     SELECT c.kind, c.value, $1 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(kind, value, ordinality)
     ORDER BY c.ordinality
     ON CONFLICT (kind, value) DO NOTHING
     RETURNING kind, value`,
    [streamId, sorted.map((claim) => claim.kind), sorted.map((claim) => claim.value)],
  );
  const won = new Set(rows.map((row) => JSON.stringify([row.kind, row.value])));
  // The first lost claim in the caller's order: registration claims user_name before email.
  const lost = claims.find((claim) => !won.has(JSON.stringify([claim.kind, claim.value])));
  if (lost !== undefined) throw new ClaimTakenError(lost.kind, lost.value);
};

const writeCredential = async (client: PoolClient, credential: CredentialWrite): Promise<void> => {
  switch (credential.kind) {
    case 'password':
      await client.query(
        `INSERT INTO user_credentials (user_id, password_hash) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()`,
        [credential.userId, credential.hash],
      );
      return;
    case 'client_secret':
      await client.query(
        `INSERT INTO client_credentials (client_id, secret_digest) VALUES ($1, $2)
         ON CONFLICT (client_id) DO UPDATE SET secret_digest = EXCLUDED.secret_digest, updated_at = now()`,
        [credential.clientId, credential.digest],
      );
      return;
    default: {
      const unknown: never = credential;
      throw new TypeError(`Unknown credential kind: ${JSON.stringify(unknown)}`);
    }
  }
};

/**
 * Translates what PostgreSQL reports about a lost race into the domain's error; anything else
 * passes through unchanged.
 */
const asDomainError = (error: unknown, streamId: string, expected: ExpectedVersion): unknown => {
  if (!(error instanceof DatabaseError)) return error;
  const lostStreamRace =
    (error.code === sqlState.uniqueViolation && streamConstraints.has(error.constraint ?? '')) ||
    // Not expected under READ COMMITTED, but when they happen the cure is the same: decide again.
    error.code === sqlState.serializationFailure ||
    error.code === sqlState.deadlockDetected;
  return lostStreamRace ? new WrongExpectedVersionError(streamId, String(expected)) : error;
};

/** An append without events writes nothing, but still answers for the expected version. */
const checkVersionOnly = async (pool: Pool, streamId: string, expected: ExpectedVersion): Promise<number> => {
  const { rows } = await pool.query<{ version: number }>('SELECT version FROM streams WHERE stream_id = $1', [
    streamId,
  ]);
  const version = rows[0]?.version ?? 0;
  const matches = expected === 'any' || version === (expected === 'no_stream' ? 0 : expected);
  if (!matches) throw new WrongExpectedVersionError(streamId, String(expected));
  return version;
};

/**
 * The event store on PostgreSQL through `pg`. An append is one transaction that
 * checks the expected version through the stream's row in `streams`, writes the events, the
 * claims, the credentials and the inline projections. Round trips: BEGIN, one statement for the
 * version and all events, COMMIT, plus one for the claims, one per credential and one per
 * projected event (a login is 4). A lost race is a `WrongExpectedVersionError` or a
 * `ClaimTakenError`; whatever fails, nothing of the append remains.
 *
 * @example
 * const eventStore = createPostgresEventStore(pool);
 * const { version, events } = await eventStore.readStream('session-3f2a...');
 * await eventStore.appendToStream('session-3f2a...', newEvents, { expectedVersion: version, metadata });
 */
export const createPostgresEventStore = (pool: Pool): PostgresEventStore => ({
  async readStream<E extends DomainEvent>(streamId: string) {
    const { rows } = await pool.query<EventRow>(
      `SELECT ${eventColumns} FROM events WHERE stream_id = $1 ORDER BY stream_position`,
      [streamId],
    );
    const events = rows.map(toRecordedEvent) as RecordedEvent<E>[];
    return { version: events.at(-1)?.streamPosition ?? 0, events };
  },

  async appendToStream(streamId, events, options) {
    checkExpectedVersion(options.expectedVersion);
    const claims = options.claims ?? [];
    const credentials = options.credentials ?? [];
    if (events.length === 0) {
      if (claims.length > 0 || credentials.length > 0) {
        throw new TypeError('appendToStream: claims and credentials must come with at least one event');
      }
      return { nextExpectedVersion: await checkVersionOnly(pool, streamId, options.expectedVersion) };
    }
    try {
      return await inTransaction(pool, async (client) => {
        const recorded = await appendEvents(client, streamId, events, options);
        if (claims.length > 0) await insertClaims(client, streamId, claims);
        for (const credential of credentials) await writeCredential(client, credential);
        for (const event of recorded) {
          if (isPosAuthEvent(event)) await applyToProjections(client, event);
        }
        return { nextExpectedVersion: (recorded.at(-1) as RecordedEvent).streamPosition };
      });
    } catch (error) {
      throw asDomainError(error, streamId, options.expectedVersion);
    }
  },

  async readAll(options = {}) {
    const after = options.after ?? logStart;
    const limit = options.limit ?? defaultReadAllLimit;
    if (!/^\d+$/u.test(after.transactionId) || !/^\d+$/u.test(after.globalPosition)) {
      throw new TypeError(`readAll: not a log position: ${JSON.stringify(after)}`);
    }
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`readAll: limit must be a whole number from 1`);
    const { rows } = await pool.query<EventRow & { transaction_id: string }>(
      `SELECT ${eventColumns}, transaction_id::text AS transaction_id FROM events
       WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND (transaction_id, global_position) > ($1::xid8, $2::bigint)
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [after.transactionId, after.globalPosition, limit],
    );
    const events = rows.map(
      (row): LoggedEvent => ({
        ...toRecordedEvent(row),
        logPosition: { transactionId: row.transaction_id, globalPosition: row.global_position },
      }),
    );
    return { events, position: events.at(-1)?.logPosition ?? after };
  },
});
