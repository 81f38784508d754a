import { createHash, randomUUID } from 'node:crypto';
import {
  ClaimTakenError,
  WrongExpectedVersionError,
  type AppendOptions,
  type CredentialWrite,
  type DomainEvent,
  type EventStore,
  type ExpectedVersion,
  type RecordedEvent,
  type StreamHead,
  type StreamWrite,
} from '@pos-auth/domain';
import { DatabaseError, type ClientBase, type Pool } from 'pg';
import { eventColumns, toRecordedEvents, type EventRow } from './event-rows.js';
import { invalidationChannel, invalidationPayload, type InvalidationListener } from './invalidation.js';
import { encodeEvent, type PersonalDataCodec } from './personal-data.js';
import { mergeRowOps, rowOpSql, type ColumnType, type Projection, type ProjectionTable, type RowOp } from './projection.js';

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
  /**
   * Read every committed event, even past a transaction still running. Only for a reader that
   * knows nothing it cares about can still commit behind it (a rebuild holding the projection
   * tables' locks); anyone else would skip a late commit for good.
   */
  readonly pastRunningTransactions?: boolean;
  /** Read on this connection instead of the pool (a rebuild reads on the one that holds its locks). */
  readonly connection?: Pick<ClientBase, 'query'>;
  /** Only events of these types: the others are never returned. */
  readonly types?: readonly string[];
}

export const defaultReadAllLimit = 1000;

export interface PostgresEventStore extends EventStore {
  /** Appends to one stream: `append` with one write. */
  appendToStream(
    streamId: string,
    events: readonly DomainEvent[],
    options: AppendOptions & Omit<StreamWrite, 'streamId' | 'events'>,
  ): Promise<{ readonly nextExpectedVersion: number }>;
  /**
   * The whole log in commit-safe order, for auditors and subscriptions: by writing transaction,
   * then global position, and only events of transactions older than every transaction still
   * running. A transaction that began earlier but commits later is therefore never skipped: its
   * events show up once it ends, still after the cursor. Returns the position to pass as `after`
   * next time (the given one when nothing new is readable yet).
   */
  readAll(options?: ReadAllOptions): Promise<{ readonly events: readonly LoggedEvent[]; readonly position: LogPosition }>;
  /** The projections this store keeps, for rebuilds. */
  readonly projections: readonly Projection[];
}

export interface PostgresEventStoreOptions {
  /** The inline projections written in every append's statement (and rebuilt from the log). */
  readonly projections: readonly Projection[];
  readonly personalData: PersonalDataCodec;
  /**
   * Wakes the log's subscribers: an append that holds an event of one of `types` notifies
   * `channel` when it commits. Only those types, because a notification serializes commits
   * (PostgreSQL queues it under one lock for the whole cluster): measured with 16 writers,
   * notifying on every commit cut plain inserts from about 11,000 to between 1,000 and 4,000 per
   * second. Subscribers also poll, so a type left out is delivered, just later.
   */
  readonly notify?: { readonly channel: string; readonly types: ReadonlySet<string> };
  /**
   * Announces on `invalidationChannel`, in the append's statement (so at its commit, and only
   * then), the cache keys its events change (`invalidationKeysOf`). With a `listener`, an append
   * that announced something resolves only once every instance listening on the schema has
   * confirmed it: when a revocation is acknowledged, no token check anywhere answers from a cache
   * that predates it.
   */
  readonly invalidation?: {
    readonly keysOf: (event: DomainEvent) => readonly string[];
    readonly listener?: () => InvalidationListener | null;
  };
}

interface Notification {
  readonly channel: string;
  readonly payload: string;
  /** The payload begins with the appender's schema (`current_schema()`). */
  readonly scoped: boolean;
}

const sqlState = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  wrongExpectedVersion: 'PA001',
  claimTaken: 'PA002',
} as const;

/** Constraints whose violation means another writer appended to the stream first. */
const streamConstraints = new Set(['streams_pkey', 'events_stream_position_unique']);

/** `pos_auth_append`'s encoding of the expected version: -1 any, 0 no stream, n exactly n. */
const expectedParameter = (expected: ExpectedVersion): number => {
  if (expected === 'any') return -1;
  if (expected === 'no_stream') return 0;
  if (!Number.isInteger(expected) || expected < 0) {
    throw new TypeError(`expectedVersion must be 'any', 'no_stream' or a whole number from 0, got ${String(expected)}`);
  }
  return expected;
};

/**
 * Secrets are rows beside the events, written like projection rows but never rebuilt: the log
 * cannot hold them. A write replaces the secret there was (a password change).
 */
const credentialTables: ReadonlyMap<string, ProjectionTable> = new Map([
  ['user_credentials', { name: 'user_credentials', key: ['user_id'], columns: { user_id: 'text', password_hash: 'text', updated_at: 'timestamptz' } }],
  [
    'client_credentials',
    {
      name: 'client_credentials',
      key: ['client_id'],
      columns: { client_id: 'text', secret_digest: 'text', previous_secret_digest: 'text', previous_valid_until: 'timestamptz', updated_at: 'timestamptz' },
    },
  ],
  ['subject_keys', { name: 'subject_keys', key: ['subject_id'], columns: { subject_id: 'text', key: 'bytea', erased_at: 'timestamptz' } }],
]);

/**
 * Statement texts are few (one per combination of streams and row changes): each is prepared once
 * per connection, under a name derived from its text, remembered so as not to hash kilobytes of
 * SQL on every append.
 */
const statementNames = new Map<string, string>();
const statementName = (text: string): string => {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `pa_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    // Bounded all the same: a caller that somehow made endless variants costs a hash, not memory.
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name;
};

/** Builds the one statement of an append: every stream's `pos_auth_append`, then every row change, guarded by them. */
class AppendStatement {
  private readonly values: unknown[] = [];
  private readonly appends: string[] = [];
  private readonly changes: string[] = [];

  param(value: unknown, type: ColumnType | 'jsonb' | 'text[]' | 'boolean[]'): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }

  addStream(write: { streamId: string; expected: number; events: unknown[]; snapshot: unknown; release: string[] | null; claims: readonly { kind: string; value: string }[] }) {
    const args = [
      this.param(write.streamId, 'text'),
      this.param(write.expected, 'integer'),
      this.param(JSON.stringify(write.events), 'jsonb'),
      this.param(write.snapshot === undefined ? null : JSON.stringify(write.snapshot), 'jsonb'),
      this.param(write.release, 'text[]'),
      this.param(write.claims.length === 0 ? null : write.claims.map((claim) => claim.kind), 'text[]'),
      this.param(write.claims.length === 0 ? null : write.claims.map((claim) => claim.value), 'text[]'),
    ];
    const index = this.appends.length;
    this.appends.push(`a${index} AS MATERIALIZED (SELECT ${index} AS w, * FROM pos_auth_append(${args.join(', ')}))`);
  }

  addRowOp(op: RowOp, table: ProjectionTable) {
    this.changes.push(`c${this.changes.length} AS (${rowOpSql(op, table, (value, type) => this.param(value, type))})`);
  }

  build(notifications: readonly Notification[]): { readonly name: string; readonly text: string; readonly values: unknown[] } {
    const appended = this.appends.map((_, index) => `SELECT * FROM a${index}`).join(' UNION ALL ');
    // A SELECT in a WITH runs only when referenced: the final SELECT joins its one row. Sent at commit.
    const notified =
      notifications.length === 0
        ? []
        : [
            `notified AS MATERIALIZED (SELECT count(pg_notify(n.channel, concat_ws(' ', CASE WHEN n.scoped THEN current_schema() END, n.payload)))
               FROM guard, unnest(${this.param(
                 notifications.map((notification) => notification.channel),
                 'text[]',
               )}, ${this.param(
                 notifications.map((notification) => notification.payload),
                 'text[]',
               )}, ${this.param(
                 notifications.map((notification) => notification.scoped),
                 'boolean[]',
               )}) AS n(channel, payload, scoped))`,
          ];
    const text = `WITH ${[
      ...this.appends,
      `appended AS MATERIALIZED (${appended})`,
      // Every row change reads `guard`, so it runs only once every stream's append has succeeded.
      'guard AS MATERIALIZED (SELECT count(*) FROM appended)',
      ...this.changes,
      ...notified,
    ].join(',\n')}\nSELECT w, stream_position FROM appended${
      notifications.length === 0 ? '' : ' CROSS JOIN notified'
    } ORDER BY w, stream_position`;
    return { name: statementName(text), text, values: this.values };
  }
}

const credentialOps = (credentials: readonly CredentialWrite[], now: string): RowOp[] =>
  credentials.map((credential): RowOp => {
    switch (credential.kind) {
      case 'password':
        return { op: 'upsert', table: 'user_credentials', row: { user_id: credential.userId, password_hash: credential.hash, updated_at: now } };
      case 'client_secret':
        return {
          op: 'upsert',
          table: 'client_credentials',
          row: {
            client_id: credential.clientId,
            secret_digest: credential.digest,
            previous_secret_digest: credential.previous?.digest ?? null,
            previous_valid_until: credential.previous?.validUntil ?? null,
            updated_at: now,
          },
        };
      default: {
        const unknown: never = credential;
        throw new TypeError(`Unknown credential kind: ${JSON.stringify(unknown)}`);
      }
    }
  });

/**
 * Translates what PostgreSQL reports about a lost race into the domain's error; anything else
 * passes through unchanged.
 */
const asDomainError = (error: unknown, writes: readonly StreamWrite[]): unknown => {
  if (!(error instanceof DatabaseError)) return error;
  const streamOf = (streamId: string | undefined) => writes.find((write) => write.streamId === streamId) ?? writes[0]!;
  if (error.code === sqlState.claimTaken) {
    const claim = writes.flatMap((write) => write.claims ?? []).find((candidate) => candidate.kind === error.detail);
    return new ClaimTakenError(error.detail ?? 'unknown', claim?.value ?? '');
  }
  const lostStreamRace =
    error.code === sqlState.wrongExpectedVersion ||
    (error.code === sqlState.uniqueViolation && streamConstraints.has(error.constraint ?? '')) ||
    // Not expected under READ COMMITTED, but when they happen the cure is the same: decide again.
    error.code === sqlState.serializationFailure ||
    error.code === sqlState.deadlockDetected;
  if (!lostStreamRace) return error;
  const write = streamOf(error.code === sqlState.wrongExpectedVersion ? error.detail : undefined);
  return new WrongExpectedVersionError(write.streamId, String(write.expectedVersion));
};

/**
 * The event store on PostgreSQL. An append, over any number of streams, is ONE statement (no
 * BEGIN/COMMIT round trips): per stream, `pos_auth_append` checks the expected version under the
 * stream row's lock, writes the events with their hash chain, the snapshot and the claims; then
 * data-modifying CTEs, guarded so they run only after every stream's append succeeded, write the
 * credentials, the erasures and every inline projection's row changes. A lost race is a
 * `WrongExpectedVersionError` or a `ClaimTakenError`; whatever fails, nothing of the append remains.
 * Personal fields are sealed with their subject's key before they leave the process.
 *
 * @example
 * const eventStore = createPostgresEventStore(pool, { projections: posAuthProjections, personalData });
 * const head = await eventStore.readHead('session-3f2a...');
 * await eventStore.append([{ streamId: 'session-3f2a...', events, expectedVersion: head.version }], { metadata });
 */
export const createPostgresEventStore = (pool: Pool, options: PostgresEventStoreOptions): PostgresEventStore => {
  const { projections, personalData, notify, invalidation } = options;
  const tables = new Map<string, ProjectionTable>([
    ...projections.flatMap((projection) => projection.tables.map((table) => [table.name, table] as const)),
    ...credentialTables,
  ]);

  const append: PostgresEventStore['append'] = async (writes, appendOptions) => {
    if (writes.length === 0) throw new TypeError('append: nothing to write');
    for (const write of writes) {
      if (write.events.length === 0) throw new TypeError(`append: no events for ${write.streamId}`);
      if (write.snapshot !== undefined && write.expectedVersion === 'any') {
        throw new TypeError(`append: a snapshot needs an exact expected version (${write.streamId})`);
      }
    }
    const { metadata } = appendOptions;
    // Streams in one order everywhere, so that two appends locking the same streams cannot deadlock.
    const ordered = writes.map((write, index) => ({ write, index })).sort((a, b) => (a.write.streamId < b.write.streamId ? -1 : 1));
    const ids = new Map(ordered.map(({ write }) => [write, write.events.map(() => randomUUID())]));
    const subjects = writes.flatMap((write) =>
      write.events.flatMap((event) => {
        const { subject } = personalData.personalDataOf(event);
        return subject === null ? [] : [subject];
      }),
    );
    const keys = personalData.seal === false ? new Map<string, Buffer | null>() : await personalData.keys.forWriting(subjects);

    const statement = new AppendStatement();
    ordered.forEach(({ write }) => {
      const eventIds = ids.get(write)!;
      statement.addStream({
        streamId: write.streamId,
        expected: expectedParameter(write.expectedVersion),
        events: write.events.map((event, index) => encodeEvent(personalData, keys, eventIds[index]!, event, metadata)),
        snapshot: write.snapshot,
        release: write.releaseClaims === undefined || write.releaseClaims.length === 0 ? null : [...write.releaseClaims],
        claims: write.claims ?? [],
      });
    });
    const ops: RowOp[] = [];
    for (const { write } of ordered) {
      write.events.forEach((event, index) => {
        const projected = { eventId: ids.get(write)![index]!, streamId: write.streamId, type: event.type, data: event.data as Record<string, unknown>, metadata };
        for (const projection of projections) {
          const changes = projection.apply(projected);
          if (changes.length > 0 && !projection.canHandle.includes(event.type)) {
            throw new TypeError(`The ${projection.name} projection changes rows for ${event.type}, which its canHandle does not list`);
          }
          ops.push(...changes);
        }
      });
    }
    ops.push(...credentialOps(appendOptions.credentials ?? [], metadata.occurredAt));
    for (const subject of appendOptions.erase ?? []) {
      ops.push({ op: 'update', table: 'subject_keys', where: { subject_id: subject }, set: { key: null, erased_at: metadata.occurredAt } });
      ops.push({ op: 'delete', table: 'user_credentials', where: { user_id: subject } });
    }
    for (const op of mergeRowOps(ops, tables)) statement.addRowOp(op, tables.get(op.table)!);

    const notifications: Notification[] = [];
    if (notify !== undefined && writes.some((write) => write.events.some((event) => notify.types.has(event.type)))) {
      notifications.push({ channel: notify.channel, payload: '', scoped: false });
    }
    const invalidated = invalidation === undefined ? [] : writes.flatMap((write) => write.events.flatMap((event) => invalidation.keysOf(event)));
    const announcement = invalidated.length === 0 ? null : invalidationPayload(invalidated);
    if (announcement !== null) notifications.push({ channel: invalidationChannel, payload: announcement.payload, scoped: true });
    const query = statement.build(notifications);
    let rows: { w: number; stream_position: number }[];
    try {
      ({ rows } = await pool.query<{ w: number; stream_position: number }>(query));
    } catch (error) {
      throw asDomainError(error, writes);
    }
    const versions: number[] = new Array(writes.length);
    ordered.forEach(({ index }, position) => {
      versions[index] = Math.max(...rows.filter((row) => row.w === position).map((row) => row.stream_position));
    });
    // Acknowledged once every instance's caches have dropped what it changed (`InvalidationListener.confirmed`).
    const listener = invalidation?.listener?.();
    if (announcement !== null && listener) await listener.confirmed(announcement.nonce);
    return versions;
  };

  return {
    projections,
    append,

    async appendToStream(streamId, events, { metadata, credentials, erase, ...write }) {
      const [version] = await append([{ streamId, events, ...write }], {
        metadata,
        ...(credentials === undefined ? {} : { credentials }),
        ...(erase === undefined ? {} : { erase }),
      });
      return { nextExpectedVersion: version! };
    },

    async readStream<E extends DomainEvent>(streamId: string, readOptions: { readonly fromPosition?: number } = {}) {
      const from = readOptions.fromPosition ?? 1;
      if (!Number.isInteger(from) || from < 1) throw new TypeError(`readStream: fromPosition must be a whole number from 1`);
      const { rows } = await pool.query<EventRow & { version: number | null }>(
        `SELECT ${eventColumns}, (SELECT version FROM streams WHERE stream_id = $1) AS version
         FROM events WHERE stream_id = $1 AND stream_position >= $2 ORDER BY stream_position`,
        [streamId, from],
      );
      const events = (await toRecordedEvents(personalData.keys, rows)) as RecordedEvent<E>[];
      const version = rows[0]?.version ?? (await this.readHead(streamId)).version;
      return { version, events };
    },

    async readHead(streamId): Promise<StreamHead> {
      const { rows } = await pool.query<{ version: number; snapshot: StreamHead['snapshot'] }>({
        name: 'pos_auth_read_head',
        text: 'SELECT version, snapshot FROM streams WHERE stream_id = $1',
        values: [streamId],
      });
      return { version: rows[0]?.version ?? 0, snapshot: rows[0]?.snapshot ?? null };
    },

    async readAll(readOptions = {}) {
      const after = readOptions.after ?? logStart;
      const limit = readOptions.limit ?? defaultReadAllLimit;
      if (!/^\d+$/u.test(after.transactionId) || !/^\d+$/u.test(after.globalPosition)) {
        throw new TypeError(`readAll: not a log position: ${JSON.stringify(after)}`);
      }
      if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`readAll: limit must be a whole number from 1`);
      const db = readOptions.connection ?? pool;
      const { rows } = await db.query<EventRow & { transaction_id: string }>(
        // Ordered by the columns, qualified: the select list renames them to text, and an output
        // name would win (text order puts position 10000 before 9999 within one transaction).
        // The types are matched through a function, which no index serves: `type = ANY` let the
        // planner, without statistics (a freshly loaded log), read every event of the types from
        // their index and sort them, for each page (at 1M events, 257 ms a page instead of 10).
        `SELECT ${eventColumns}, transaction_id::text AS transaction_id FROM events e
         WHERE ($4 OR e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()))
           AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
           AND ($5::text[] IS NULL OR array_position($5::text[], e.type) IS NOT NULL)
         ORDER BY e.transaction_id, e.global_position
         LIMIT $3`,
        [after.transactionId, after.globalPosition, limit, readOptions.pastRunningTransactions === true, readOptions.types ?? null],
      );
      const recorded = await toRecordedEvents(personalData.keys, rows, db);
      // Assigned, not spread: a spread would open every event's sealed fields now.
      const events = recorded.map((event, index): LoggedEvent =>
        Object.assign(event, { logPosition: { transactionId: rows[index]!.transaction_id, globalPosition: rows[index]!.global_position } }),
      );
      return { events, position: events.at(-1)?.logPosition ?? after };
    },
  };
};
