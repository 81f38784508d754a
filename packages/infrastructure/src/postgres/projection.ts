import type { EventMetadata } from '@pos-auth/domain';

/** A PostgreSQL column type a projection table uses; values are cast to it in the SQL. */
export type ColumnType = 'text' | 'boolean' | 'integer' | 'timestamptz' | 'bytea';

/** A table an inline projection owns: rebuilt from the log, never written by anything else. */
export interface ProjectionTable {
  readonly name: string;
  /** The primary key's columns. */
  readonly key: readonly string[];
  readonly columns: Readonly<Record<string, ColumnType>>;
  /**
   * A `timestamptz` column after whose instant a row serves nobody (a token past its expiry): the
   * pruning job deletes such rows, and a rebuild does not write them, so that a rebuilt table
   * equals a live one pruned at the same instant.
   */
  readonly expiresAt?: string;
  /**
   * Its rows are only ever inserted, never updated or deleted (an update or delete of it is a
   * programmer error): a rebuild then writes them out as it replays instead of holding them all.
   */
  readonly insertOnly?: boolean;
}

export type Row = Readonly<Record<string, unknown>>;

/**
 * One change to a projection table. `where` is equality on the named columns (usually the key).
 * Values are JSON-like: strings (ISO instants for timestamps), numbers, booleans, null.
 */
export type RowOp =
  | { readonly op: 'insert'; readonly table: string; readonly row: Row }
  /** Inserts the row, or replaces the values of the row with its key. */
  | { readonly op: 'upsert'; readonly table: string; readonly row: Row }
  | { readonly op: 'update'; readonly table: string; readonly where: Row; readonly set: Row }
  | { readonly op: 'delete'; readonly table: string; readonly where: Row };

/** An event as projections see it: decoded (personal fields in clear), before the database numbers it. */
export interface ProjectedEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: EventMetadata;
}

/**
 * An inline projection: the tables it owns and the row changes each event makes to them, as a
 * pure function. The event store writes those changes in the append's own statement (a read right
 * after a write sees them), and a rebuild replays the whole log through the same function, so both
 * give the same rows. Bump `version` when `apply` changes meaning: the tables are then rebuilt.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  readonly tables: readonly ProjectionTable[];
  /**
   * The event types `apply` changes rows for: a rebuild reads only these from the log. An append
   * whose event of another type makes `apply` change rows is refused as a programmer error, so a
   * type missing here fails the first test that appends it, not a rebuild in production.
   */
  readonly canHandle: readonly string[];
  apply(event: ProjectedEvent): readonly RowOp[];
}

const sameValues = (a: Row, b: Row): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.is(a[key], b[key]));
};

const keyOf = (table: ProjectionTable, row: Row): Row => Object.fromEntries(table.key.map((column) => [column, row[column]]));

/**
 * Folds the changes one append makes so that no row is written twice in one statement (the
 * statement's parts all see the same snapshot, so a second write of a row would not see the
 * first): an update of a row inserted or updated earlier in the same append joins that change.
 * It looks back past changes to other tables, and stops at any other change to the same table,
 * which it cannot reorder around. Projections must not make two changes with different `where`s
 * to the same row in one append (none of pos-auth's do).
 */
export const mergeRowOps = (ops: readonly RowOp[], tables: ReadonlyMap<string, ProjectionTable>): RowOp[] => {
  const merged: RowOp[] = [];
  for (const op of ops) {
    if (op.op === 'update') {
      const table = tables.get(op.table);
      let index = merged.length - 1;
      while (index >= 0 && merged[index]!.table !== op.table) index -= 1;
      const earlier = merged[index];
      if (earlier?.op === 'update' && sameValues(earlier.where, op.where)) {
        merged[index] = { ...earlier, set: { ...earlier.set, ...op.set } };
        continue;
      }
      if ((earlier?.op === 'insert' || earlier?.op === 'upsert') && table !== undefined && sameValues(keyOf(table, earlier.row), op.where)) {
        merged[index] = { ...earlier, row: { ...earlier.row, ...op.set } };
        continue;
      }
    }
    merged.push(op);
  }
  return merged;
};

const identifier = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/u.test(name)) throw new TypeError(`Not a plain SQL identifier: ${name}`);
  return name;
};

/** The SQL of one row change as a data-modifying CTE body, reading `guard` so it runs only after the append succeeded. */
export const rowOpSql = (
  op: RowOp,
  table: ProjectionTable,
  param: (value: unknown, type: ColumnType) => string,
): string => {
  const typed = (column: string) => {
    const type = table.columns[column];
    if (type === undefined) throw new TypeError(`${table.name} has no column ${column}`);
    return type;
  };
  const conditions = (where: Row) =>
    Object.entries(where)
      .map(([column, value]) => `${identifier(column)} = ${param(value, typed(column))}`)
      .join(' AND ');
  const name = identifier(table.name);
  if (op.op !== 'insert' && table.insertOnly === true) throw new TypeError(`${table.name} is insert-only: no ${op.op} of it`);
  switch (op.op) {
    case 'insert':
    case 'upsert': {
      const columns = Object.keys(op.row);
      const insert = `INSERT INTO ${name} (${columns.map(identifier).join(', ')}) SELECT ${columns
        .map((column) => param(op.row[column], typed(column)))
        .join(', ')} FROM guard`;
      if (op.op === 'insert') return insert;
      const values = columns.filter((column) => !table.key.includes(column));
      return `${insert} ON CONFLICT (${table.key.map(identifier).join(', ')}) DO UPDATE SET ${values
        .map((column) => `${identifier(column)} = EXCLUDED.${identifier(column)}`)
        .join(', ')}`;
    }
    case 'update':
      return `UPDATE ${name} SET ${Object.entries(op.set)
        .map(([column, value]) => `${identifier(column)} = ${param(value, typed(column))}`)
        .join(', ')} FROM guard WHERE ${conditions(op.where)}`;
    case 'delete':
      return `DELETE FROM ${name} USING guard WHERE ${conditions(op.where)}`;
    default: {
      const unknown: never = op;
      throw new TypeError(`Unknown row operation: ${JSON.stringify(unknown)}`);
    }
  }
};

/**
 * The projection tables held in memory while the log is replayed into them: a rebuild applies
 * every event's row changes here, in log order, and writes each table once at the end, instead of
 * one statement per event.
 */
export class InMemoryTables {
  private readonly rows = new Map<string, Map<string, Record<string, unknown>>>();
  /** Rows of insert-only tables not yet taken by `takeInserted`. */
  private readonly inserted = new Map<string, Record<string, unknown>[]>();

  constructor(private readonly tables: ReadonlyMap<string, ProjectionTable>) {
    for (const [name, spec] of tables) {
      this.rows.set(name, new Map());
      if (spec.insertOnly === true) this.inserted.set(name, []);
    }
  }

  private tableOf(name: string): { spec: ProjectionTable; rows: Map<string, Record<string, unknown>> } {
    const spec = this.tables.get(name);
    const rows = this.rows.get(name);
    if (spec === undefined || rows === undefined) throw new TypeError(`No projection table ${name}`);
    return { spec, rows };
  }

  private static keyString(spec: ProjectionTable, row: Row): string {
    // Most keys are one text column; JSON (which never starts with "s") keeps other keys apart.
    const single = spec.key.length === 1 ? row[spec.key[0]!] : undefined;
    return typeof single === 'string' ? `s${single}` : JSON.stringify(spec.key.map((column) => row[column]));
  }

  /** The rows `where` selects: by key when it names exactly the key, else by a scan (rare events only). */
  private matching(spec: ProjectionTable, rows: Map<string, Record<string, unknown>>, where: Row): string[] {
    const columns = Object.keys(where);
    if (columns.length === spec.key.length && spec.key.every((column) => column in where)) {
      const key = InMemoryTables.keyString(spec, where);
      return rows.has(key) ? [key] : [];
    }
    const found: string[] = [];
    for (const [key, row] of rows) {
      if (columns.every((column) => Object.is(row[column], where[column]))) found.push(key);
    }
    return found;
  }

  apply(op: RowOp): void {
    const { spec, rows } = this.tableOf(op.table);
    const inserted = this.inserted.get(op.table);
    if (inserted !== undefined) {
      // Duplicates are left to the table's primary key, where these rows are written.
      if (op.op !== 'insert') throw new TypeError(`${op.table} is insert-only: no ${op.op} of it`);
      inserted.push({ ...op.row });
      return;
    }
    switch (op.op) {
      case 'insert': {
        const key = InMemoryTables.keyString(spec, op.row);
        if (rows.has(key)) throw new Error(`Replay inserted ${op.table} ${key} twice`);
        rows.set(key, { ...op.row });
        return;
      }
      case 'upsert': {
        const key = InMemoryTables.keyString(spec, op.row);
        rows.set(key, { ...rows.get(key), ...op.row });
        return;
      }
      case 'update':
        for (const key of this.matching(spec, rows, op.where)) Object.assign(rows.get(key)!, op.set);
        return;
      case 'delete':
        for (const key of this.matching(spec, rows, op.where)) rows.delete(key);
        return;
      default: {
        const unknown: never = op;
        throw new TypeError(`Unknown row operation: ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The rows inserted into an insert-only table since the last call, which it forgets. */
  takeInserted(name: string): Record<string, unknown>[] {
    const inserted = this.inserted.get(name);
    if (inserted === undefined) throw new TypeError(`${name} is not an insert-only projection table`);
    return inserted.splice(0);
  }

  /** Every row of a table (of an insert-only one, those not taken yet), with every column (absent ones null). */
  *rowsOf(name: string): Iterable<Record<string, unknown>> {
    const { spec, rows } = this.tableOf(name);
    const columns = Object.keys(spec.columns);
    for (const row of this.inserted.get(name) ?? rows.values()) yield Object.fromEntries(columns.map((column) => [column, row[column] ?? null]));
  }

  count(name: string): number {
    return this.inserted.get(name)?.length ?? this.tableOf(name).rows.size;
  }
}
