import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { logStart, type LogPosition, type LoggedEvent, type PostgresEventStore } from './event-store.js';
import { InMemoryTables, mergeRowOps, rowOpSql, type ColumnType, type Projection, type ProjectedEvent, type ProjectionTable, type RowOp } from './projection.js';

const replayBatch = 5000;
const insertBatch = 5000;

const tablesOf = (projections: readonly Projection[]): Map<string, ProjectionTable> =>
  new Map(projections.flatMap((projection) => projection.tables.map((table) => [table.name, table] as const)));

/** The event as it was read: its sealed fields open only if a projection reads them. */
const opsOf = (projections: readonly Projection[], event: LoggedEvent): RowOp[] =>
  projections.flatMap((projection) => [...projection.apply(event as LoggedEvent & ProjectedEvent)]);

/** The event types any projection changes rows for: a rebuild reads nothing else. */
const typesOf = (projections: readonly Projection[]): string[] => [...new Set(projections.flatMap((projection) => projection.canHandle))];

/**
 * Replays the log, in commit-safe order, through the projections into tables held in memory.
 * Returns them with the position reached, from which a catch-up continues. The rows of
 * insert-only tables go to `writeInserted` after each page instead (written while the next page
 * is read), so memory holds only the rows that later events may change.
 */
export const replayLog = async (
  store: PostgresEventStore,
  options: {
    readonly after?: LogPosition;
    readonly into?: InMemoryTables;
    readonly onProgress?: (replayed: number) => void;
    readonly writeInserted?: (table: ProjectionTable, rows: Record<string, unknown>[]) => Promise<void>;
  } = {},
): Promise<{ readonly tables: InMemoryTables; readonly replayed: number; readonly position: LogPosition }> => {
  const specs = tablesOf(store.projections);
  const tables = options.into ?? new InMemoryTables(specs);
  const insertOnly = options.writeInserted === undefined ? [] : [...specs.values()].filter((table) => table.insertOnly === true);
  let writing: Promise<unknown> = Promise.resolve();
  let position = options.after ?? logStart;
  let replayed = 0;
  const types = typesOf(store.projections);
  let reading = store.readAll({ after: position, limit: replayBatch, types });
  for (;;) {
    const page = await reading;
    // The next page is read while this one is applied: PostgreSQL and this process work at once.
    if (page.events.length === replayBatch) reading = store.readAll({ after: page.position, limit: replayBatch, types });
    reading.catch(() => undefined);
    for (const event of page.events) for (const op of opsOf(store.projections, event)) tables.apply(op);
    await writing;
    writing = Promise.all(insertOnly.map((table) => options.writeInserted!(table, tables.takeInserted(table.name))));
    // Its failure is awaited at the next page or at the end; until then it is not unhandled.
    writing.catch(() => undefined);
    replayed += page.events.length;
    position = page.position;
    options.onProgress?.(replayed);
    if (page.events.length < replayBatch) {
      await writing;
      return { tables, replayed, position };
    }
  }
};

/** A value as json_to_recordset reads it into a column of `type`. */
const jsonValue = (type: ColumnType, value: unknown) =>
  value === undefined || value === null ? null : type === 'bytea' && Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : value;

/**
 * Writes the in-memory rows of `table` with one multi-row INSERT per batch. The batch goes as one
 * JSON document (json_to_recordset): serializing it is native, where array parameters cost an
 * escape per element in this process.
 */
export const writeTable = async (
  db: Pick<pg.ClientBase, 'query'>,
  table: ProjectionTable,
  rows: Iterable<Record<string, unknown>>,
  options: { readonly into?: string; readonly onRows?: (written: number) => void } = {},
): Promise<void> => {
  const columns = Object.entries(table.columns) as [string, ColumnType][];
  const names = columns.map(([column]) => column).join(', ');
  const hasBytea = columns.some(([, type]) => type === 'bytea');
  const text = `INSERT INTO ${options.into ?? table.name} (${names})
    SELECT ${names} FROM json_to_recordset($1::json) AS r(${columns.map(([column, type]) => `${column} ${type}`).join(', ')})`;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    // A column absent from a row is NULL; only bytea needs spelling out.
    const json = JSON.stringify(
      hasBytea ? batch.map((row) => Object.fromEntries(columns.map(([column, type]) => [column, jsonValue(type, row[column])]))) : batch,
    );
    await db.query(text, [json]);
    options.onRows?.(batch.length);
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= insertBatch) await flush();
  }
  await flush();
};

/** The rows of `table` that a live table pruned at `now` still holds (see `pruneExpiredRows`). */
export function* unexpired(table: ProjectionTable, rows: Iterable<Record<string, unknown>>, now: Date): Iterable<Record<string, unknown>> {
  const column = table.expiresAt;
  for (const row of rows) {
    if (column === undefined || Date.parse(String(row[column])) > now.getTime()) yield row;
  }
}

/** Whether an op inserts a row already past its table's `expiresAt` at `now`: one the replay leaves out too. */
const insertsExpired = (op: RowOp, tables: ReadonlyMap<string, ProjectionTable>, now: Date): boolean => {
  const column = tables.get(op.table)?.expiresAt;
  return op.op === 'insert' && column !== undefined && Date.parse(String(op.row[column])) <= now.getTime();
};

/**
 * Applies one event's row changes to the tables `search_path` finds first, as an append's statement
 * would, but for rows already expired at `now` (see `unexpired`).
 */
const applyOps = async (client: pg.ClientBase, ops: readonly RowOp[], tables: ReadonlyMap<string, ProjectionTable>, now: Date) => {
  const merged = mergeRowOps(
    ops.filter((op) => !insertsExpired(op, tables, now)),
    tables,
  );
  if (merged.length === 0) return;
  const values: unknown[] = [];
  const param = (value: unknown, type: ColumnType) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const parts = merged.map((op, index) => `o${index} AS (${rowOpSql(op, tables.get(op.table)!, param)})`);
  await client.query(`WITH guard AS (SELECT 1), ${parts.join(', ')} SELECT 1`, values);
};

export type RebuildPhase = 'replay' | 'write' | 'catch-up' | 'swap';

export interface RebuildOptions {
  /** `done` of `total` in each phase: events replayed, rows written, events caught up. */
  readonly onProgress?: (phase: RebuildPhase, done: number, total: number) => void;
  /** Catch up without locks until a round brings fewer events than this (default 200). */
  readonly catchUpThreshold?: number;
  /** How long the swap waits for the projection tables before it backs off and tries again (default 500 ms). */
  readonly lockTimeoutMs?: number;
  /** Swaps tried before giving up (default 20). */
  readonly swapAttempts?: number;
  /** Called while the swap holds the tables, right before it exchanges them (tests queue writers there). */
  readonly beforeSwap?: () => Promise<void>;
  /** The instant whose expired token rows are left out, as the pruning job would have deleted them (default: now). */
  readonly now?: Date;
}

export interface RebuildResult {
  readonly replayed: number;
  /** How long appends and reads of the projections waited for the swap, at most. */
  readonly swapMs: number;
  /** Swaps tried: more than one when the tables stayed busy past `lockTimeoutMs`. */
  readonly swapAttempts: number;
}

const identifier = (name: string) => pg.escapeIdentifier(name);

/**
 * Recreates, in `shadow`, each table of `live` without rows: columns, defaults and checks now,
 * its keys and indexes (under their own names) after the rows are in, and its owner and grants,
 * so that the swapped-in table is the live one but for its rows.
 */
const shadowTables = (live: string, shadow: string, names: readonly string[]) => ({
  async create(client: pg.ClientBase) {
    await client.query(`CREATE SCHEMA ${identifier(shadow)}`);
    for (const name of names) {
      const { rows: blockers } = await client.query<{ what: string }>(
        `SELECT 'a foreign key ' || conname AS what FROM pg_constraint WHERE confrelid = $1::regclass AND contype = 'f'
         UNION ALL SELECT 'a trigger ' || tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal`,
        [`${identifier(live)}.${identifier(name)}`],
      );
      // Both would still point at the table that is swapped out.
      if (blockers.length > 0) throw new Error(`Cannot rebuild ${name} by swapping it: it has ${blockers.map((b) => b.what).join(', ')}`);
      await client.query(
        `CREATE TABLE ${identifier(shadow)}.${identifier(name)} (LIKE ${identifier(live)}.${identifier(name)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
      );
    }
  },
  async index(client: pg.ClientBase) {
    for (const name of names) {
      const live_ = `${identifier(live)}.${identifier(name)}`;
      const target = `${identifier(shadow)}.${identifier(name)}`;
      // As pg_get_indexdef prints them: quoted only where needed.
      const { rows: printed } = await client.query<{ live: string; target: string }>(
        "SELECT format('%I.%I', $1::text, $3::text) AS live, format('%I.%I', $2::text, $3::text) AS target",
        [live, shadow, name],
      );
      const { rows: keys } = await client.query<{ name: string; definition: string }>(
        "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname",
        [live_],
      );
      for (const key of keys) await client.query(`ALTER TABLE ${target} ADD CONSTRAINT ${identifier(key.name)} ${key.definition}`);
      const { rows: indexes } = await client.query<{ definition: string }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
         WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY i.indexrelid`,
        [live_],
      );
      for (const index of indexes) {
        const definition = index.definition.replace(` ON ${printed[0]!.live} `, ` ON ${printed[0]!.target} `);
        if (definition === index.definition) throw new Error(`Cannot recreate an index of ${name}: ${index.definition}`);
        await client.query(definition);
      }
      const { rows: grants } = await client.query<{ owner: string; grantee: string | null; privilege: string | null }>(
        `SELECT c.relowner::regrole::text AS owner, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
                a.privilege_type AS privilege
         FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a ON true WHERE c.oid = $1::regclass`,
        [live_],
      );
      const owner = grants[0]?.owner;
      if (owner !== undefined) await client.query(`ALTER TABLE ${target} OWNER TO ${owner}`);
      for (const grant of grants) {
        if (grant.privilege !== null && grant.grantee !== null && grant.grantee !== owner) {
          await client.query(`GRANT ${grant.privilege} ON ${target} TO ${grant.grantee}`);
        }
      }
      await client.query(`ANALYZE ${target}`);
    }
  },
});

const lockKeys = "hashtext('pos-auth:rebuild'), hashtext(current_schema())";

/**
 * Rebuilds every projection from the log while the service keeps serving:
 * 1. replays the log into memory (no lock) and writes the rows into new tables in a schema of
 *    their own, made like the live ones, then their keys and indexes;
 * 2. catches up, without locks, with what was appended meanwhile, until little is left;
 * 3. in one short transaction: locks the live tables (appends that write them have then committed,
 *    and the next ones wait), applies the last events, moves the live tables out and the new ones
 *    in, records the projections' versions, commits.
 * An append's statement locks its tables when it starts, so it either committed before the lock
 * (and is caught up) or waits for the swap and then writes the new table: PostgreSQL looks a name
 * up again after a lock wait, and replans a prepared statement whose table changed. Readers see the
 * old rows until the commit. When the lock is not granted within `lockTimeoutMs`, the swap backs
 * off (so appends do not queue behind it for long), catches up again and retries. Rebuilds of one
 * schema take turns.
 *
 * Rows already past their expiry at `now` (default: the wall clock) are not written: the live
 * tables lose them to the pruning job, so a rebuilt table equals a live one pruned at `now`.
 *
 * @example
 * const { replayed, swapMs } = await rebuildProjections(pool, eventStore, { onProgress: (phase, done, total) => bar.update(done) });
 */
export const rebuildProjections = async (pool: pg.Pool, store: PostgresEventStore, options: RebuildOptions = {}): Promise<RebuildResult> => {
  const result = await rebuild(pool, store, options, false);
  return result ?? { replayed: 0, swapMs: 0, swapAttempts: 0 };
};

const rebuild = async (pool: pg.Pool, store: PostgresEventStore, options: RebuildOptions, onlyIfStale: boolean): Promise<RebuildResult | null> => {
  const tables = tablesOf(store.projections);
  const names = [...tables.keys()];
  const threshold = options.catchUpThreshold ?? 200;
  const lockTimeoutMs = options.lockTimeoutMs ?? 500;
  const attempts = options.swapAttempts ?? 20;
  const progress = options.onProgress ?? (() => undefined);
  const now = options.now ?? new Date();
  const client = await pool.connect();
  const suffix = randomBytes(6).toString('hex');
  const shadow = `pos_auth_rebuild_${suffix}`;
  const retired = `pos_auth_retired_${suffix}`;
  let failure: Error | undefined;
  try {
    await client.query(`SELECT pg_advisory_lock(${lockKeys})`);
    if (onlyIfStale && (await projectionsCurrent(client, store.projections))) return null;
    const live = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
    const liveName = (name: string) => `${identifier(live)}.${identifier(name)}`;
    const shadowName = (name: string) => `${identifier(shadow)}.${identifier(name)}`;
    const layout = shadowTables(live, shadow, names);
    await layout.create(client);

    const total = Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0);
    const first = await replayLog(store, {
      onProgress: (replayed) => progress('replay', replayed, Math.max(total, replayed)),
      writeInserted: (table, rows) => writeTable(client, table, unexpired(table, rows, now), { into: shadowName(table.name) }),
    });
    const rowCount = names.reduce((sum, name) => sum + first.tables.count(name), 0);
    let written = 0;
    for (const [name, table] of tables) {
      await writeTable(client, table, unexpired(table, first.tables.rowsOf(name), now), {
        into: shadowName(name),
        onRows: (rows) => progress('write', (written += rows), rowCount),
      });
    }
    await layout.index(client);

    // The shadow tables come first on this connection, so that row changes written unqualified land there.
    await client.query(`SET search_path TO ${identifier(shadow)}, ${identifier(live)}`);
    let position = first.position;
    let caughtUp = 0;
    // Under the locks, the reads go through the locked connection too: appends waiting for the
    // swap may hold every other connection of the pool.
    const catchUp = async (locked: boolean): Promise<number> => {
      let applied = 0;
      for (;;) {
        const page = await store.readAll({
          after: position,
          limit: replayBatch,
          types: typesOf(store.projections),
          ...(locked ? { pastRunningTransactions: true, connection: client } : {}),
        });
        for (const event of page.events) await applyOps(client, opsOf(store.projections, event), tables, now);
        position = page.position;
        applied += page.events.length;
        caughtUp += page.events.length;
        progress('catch-up', caughtUp, caughtUp);
        if (page.events.length < replayBatch) return applied;
      }
    };
    while ((await catchUp(false)) >= threshold);

    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      const before = { position, caughtUp };
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
        // In the projections' order, the order appends lock them in: no deadlock with an append.
        await client.query(`LOCK TABLE ${names.map(liveName).join(', ')} IN ACCESS EXCLUSIVE MODE`);
        // Every append that writes these tables has committed: the events of any transaction still
        // running have no row changes, so reading past them misses nothing.
        await catchUp(true);
        await options.beforeSwap?.();
        await client.query(`CREATE SCHEMA ${identifier(retired)}`);
        for (const name of names) await client.query(`ALTER TABLE ${liveName(name)} SET SCHEMA ${identifier(retired)}`);
        for (const name of names) await client.query(`ALTER TABLE ${shadowName(name)} SET SCHEMA ${identifier(live)}`);
        await recordVersions(client, live, store.projections);
        await client.query('COMMIT');
        const swapMs = performance.now() - started;
        progress('swap', 1, 1);
        await dropSchema(client, retired, lockTimeoutMs);
        await dropSchema(client, shadow, lockTimeoutMs);
        return { replayed: first.replayed + caughtUp, swapMs, swapAttempts: attempt };
      } catch (error) {
        await client.query('ROLLBACK');
        // What the rolled-back catch-up applied is gone from the new tables: read it again.
        ({ position, caughtUp } = before);
        const lockTimedOut = error instanceof pg.DatabaseError && error.code === '55P03';
        if (!lockTimedOut || attempt >= attempts) throw error;
        await catchUp(false);
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await dropSchema(client, shadow, lockTimeoutMs).catch(() => undefined);
    throw error;
  } finally {
    // The connection's search_path was changed: it never goes back to the pool. Closing it also
    // releases the advisory lock.
    client.release(failure ?? true);
  }
};

/** Drops a schema left by a rebuild; a table still locked by a late statement is left to the next rebuild's caller. */
const dropSchema = async (client: pg.ClientBase, schema: string, lockTimeoutMs: number) => {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
    await client.query(`DROP SCHEMA IF EXISTS ${identifier(schema)} CASCADE`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
};

const recordVersions = (client: pg.ClientBase, schema: string, projections: readonly Projection[]) =>
  client.query(
    `INSERT INTO ${identifier(schema)}.projection_versions (name, version) SELECT * FROM unnest($1::text[], $2::integer[])
     ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version`,
    [projections.map((projection) => projection.name), projections.map((projection) => projection.version)],
  );

const projectionsCurrent = async (db: Pick<pg.ClientBase, 'query'>, projections: readonly Projection[]): Promise<boolean> => {
  const { rows } = await db.query<{ name: string; version: number }>('SELECT name, version FROM projection_versions');
  const built = new Map(rows.map((row) => [row.name, row.version]));
  return projections.every((projection) => built.get(projection.name) === projection.version);
};

/**
 * Rebuilds the projections when the code's versions differ from the ones their tables were built
 * with (a migration reshaped them, or their logic changed): what the service does at start. The
 * same online rebuild as `rebuildProjections`; several instances starting at once rebuild once.
 */
export const ensureProjectionsCurrent = async (
  pool: pg.Pool,
  store: PostgresEventStore,
  options: RebuildOptions = {},
): Promise<{ readonly rebuilt: boolean; readonly replayed: number }> => {
  if (await projectionsCurrent(pool, store.projections)) return { rebuilt: false, replayed: 0 };
  const result = await rebuild(pool, store, options, true);
  return { rebuilt: result !== null, replayed: result?.replayed ?? 0 };
};
