import type pg from 'pg';
import { logStart, type LogPosition, type PostgresEventStore } from './event-store.js';
import { InMemoryTables, type ColumnType, type Projection, type ProjectionTable } from './projection.js';
import { inTransaction } from './transaction.js';

const replayBatch = 5000;
const insertBatch = 5000;

const tablesOf = (projections: readonly Projection[]): Map<string, ProjectionTable> =>
  new Map(projections.flatMap((projection) => projection.tables.map((table) => [table.name, table] as const)));

/**
 * Replays the log, in commit-safe order, through the projections into tables held in memory.
 * Returns them with the position reached, from which a catch-up continues.
 */
export const replayLog = async (
  store: PostgresEventStore,
  options: {
    readonly after?: LogPosition;
    readonly into?: InMemoryTables;
    readonly pastRunningTransactions?: boolean;
    readonly onProgress?: (replayed: number) => void;
  } = {},
): Promise<{ readonly tables: InMemoryTables; readonly replayed: number; readonly position: LogPosition }> => {
  const tables = options.into ?? new InMemoryTables(tablesOf(store.projections));
  let position = options.after ?? logStart;
  let replayed = 0;
  for (;;) {
    const page = await store.readAll({ after: position, limit: replayBatch, pastRunningTransactions: options.pastRunningTransactions ?? false });
    for (const event of page.events) {
      const projected = { eventId: event.eventId, streamId: event.streamId, type: event.type, data: event.data as Record<string, unknown>, metadata: event.metadata };
      for (const projection of store.projections) for (const op of projection.apply(projected)) tables.apply(op);
    }
    replayed += page.events.length;
    position = page.position;
    options.onProgress?.(replayed);
    if (page.events.length < replayBatch) return { tables, replayed, position };
  }
};

/** Writes the in-memory rows of `table` with one multi-row INSERT per batch (unnest of column arrays). */
export const writeTable = async (db: Pick<pg.ClientBase, 'query'>, table: ProjectionTable, rows: Iterable<Record<string, unknown>>): Promise<void> => {
  const columns = Object.entries(table.columns) as [string, ColumnType][];
  const text = `INSERT INTO ${table.name} (${columns.map(([column]) => column).join(', ')})
    SELECT * FROM unnest(${columns.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ')})`;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await db.query(text, columns.map(([column]) => batch.map((row) => row[column] ?? null)));
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= insertBatch) await flush();
  }
  await flush();
};

/** The rows of `table` that a live table pruned at `now` still holds (see `pruneExpiredRows`). */
function* unexpired(table: ProjectionTable, rows: Iterable<Record<string, unknown>>, now: Date): Iterable<Record<string, unknown>> {
  const column = table.expiresAt;
  for (const row of rows) {
    if (column === undefined || Date.parse(String(row[column])) > now.getTime()) yield row;
  }
}

/**
 * Rebuilds every projection from the log: replays it into memory without holding any lock, then,
 * in one transaction that holds the projection tables exclusively, replays what was appended
 * meanwhile, empties the tables and writes them anew, and records the projections' versions.
 * Readers see the old rows until it commits; appends wait only for that last step.
 *
 * Rows already past their expiry at `now` (default: the wall clock) are not written: the live
 * tables lose them to the pruning job, so a rebuilt table equals a live one pruned at `now`.
 *
 * @example
 * const { replayed } = await rebuildProjections(pool, eventStore);
 */
export const rebuildProjections = async (
  pool: pg.Pool,
  store: PostgresEventStore,
  options: { readonly onProgress?: (replayed: number) => void; readonly now?: Date } = {},
): Promise<{ readonly replayed: number }> => {
  const now = options.now ?? new Date();
  const first = await replayLog(store, options);
  const tables = tablesOf(store.projections);
  const names = [...tables.keys()];
  return inTransaction(pool, async (client) => {
    // Every append that writes these tables has committed once this lock is held, and the next wait for it.
    await client.query(`LOCK TABLE ${names.join(', ')} IN EXCLUSIVE MODE`);
    // Under the lock no append that writes projections is running: every event it can miss was written by one that does not.
    const rest = await replayLog(store, { after: first.position, into: first.tables, pastRunningTransactions: true });
    await client.query(`TRUNCATE ${names.join(', ')}`);
    for (const table of tables.values()) await writeTable(client, table, unexpired(table, first.tables.rowsOf(table.name), now));
    await client.query(
      `INSERT INTO projection_versions (name, version) SELECT * FROM unnest($1::text[], $2::integer[])
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version`,
      [store.projections.map((projection) => projection.name), store.projections.map((projection) => projection.version)],
    );
    return { replayed: first.replayed + rest.replayed };
  });
};

/**
 * Rebuilds the projections when the code's versions differ from the ones their tables were built
 * with (a migration reshaped them, or their logic changed): what the service does at start.
 */
export const ensureProjectionsCurrent = async (pool: pg.Pool, store: PostgresEventStore): Promise<{ readonly rebuilt: boolean; readonly replayed: number }> => {
  const { rows } = await pool.query<{ name: string; version: number }>('SELECT name, version FROM projection_versions');
  const built = new Map(rows.map((row) => [row.name, row.version]));
  if (store.projections.every((projection) => built.get(projection.name) === projection.version)) return { rebuilt: false, replayed: 0 };
  const { replayed } = await rebuildProjections(pool, store);
  return { rebuilt: true, replayed };
};
