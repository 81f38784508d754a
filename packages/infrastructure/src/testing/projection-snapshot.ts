import type pg from 'pg';
import type { PostgresEventStore } from '../postgres/event-store.js';
import type { ColumnType, ProjectionTable } from '../postgres/projection.js';
import { replayLog, unexpired } from '../postgres/rebuild.js';

/** Every row of every projection table, each as one JSON line, sorted: two snapshots compare with `toEqual`. */
export type ProjectionSnapshot = Record<string, string[]>;

const normalize = (type: ColumnType, value: unknown): unknown => {
  if (value === null || value === undefined) return null;
  if (type === 'timestamptz') return new Date(value as string | Date).toISOString();
  if (type === 'bytea') return Buffer.isBuffer(value) ? value.toString('hex') : value;
  return value;
};

const line = (table: ProjectionTable, row: Record<string, unknown>) =>
  JSON.stringify(Object.fromEntries(Object.entries(table.columns).map(([column, type]) => [column, normalize(type, row[column])])));

const tablesOf = (store: PostgresEventStore) => store.projections.flatMap((projection) => projection.tables);

/** The projection tables as they are in the database. */
export const projectionSnapshot = async (pool: pg.Pool, store: PostgresEventStore): Promise<ProjectionSnapshot> => {
  const snapshot: ProjectionSnapshot = {};
  for (const table of tablesOf(store)) {
    const { rows } = await pool.query<Record<string, unknown>>(`SELECT ${Object.keys(table.columns).join(', ')} FROM ${table.name}`);
    snapshot[table.name] = rows.map((row) => line(table, row)).sort();
  }
  return snapshot;
};

/**
 * The projection tables as the log says they must be: a replay of it, in memory. With `now`, as a
 * rebuild at `now` writes them: without the token rows already expired then.
 */
export const replayedSnapshot = async (store: PostgresEventStore, options: { readonly now?: Date } = {}): Promise<ProjectionSnapshot> => {
  const { tables } = await replayLog(store);
  const snapshot: ProjectionSnapshot = {};
  for (const table of tablesOf(store)) {
    const rows = options.now === undefined ? tables.rowsOf(table.name) : unexpired(table, tables.rowsOf(table.name), options.now);
    snapshot[table.name] = [...rows].map((row) => line(table, row)).sort();
  }
  return snapshot;
};
