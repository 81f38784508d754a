import pg from 'pg';

export interface PoolOptions {
  /**
   * The schema every connection of the pool works in. Unqualified table names resolve to it, so
   * one database can hold several independent pos-auth instances (each test file gets one).
   */
  readonly schema?: string;
  /** Most connections the pool opens (pg's default is 10). */
  readonly max?: number;
}

const int8Oid = pg.types.builtins.INT8;

/**
 * int8 columns (global positions) come back as `bigint`: pg's default, a string, would make
 * callers compare positions as text, and a JS `number` loses precision above 2^53. Other types
 * keep pg's parsers. This is set per pool, not on pg's global registry, so it affects nobody else.
 * `count(*)` is int8 too: queries meant for a `number` cast it (`count(*)::int`).
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid && format !== 'binary'
      ? (value: string) => BigInt(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Creates a `pg` pool for pos-auth: int8 parsed as `bigint`, and, when `schema` is given, every
 * connection switched to that schema before the pool hands it out.
 *
 * The schema is set by `SET search_path` in pg-pool's `onConnect` hook, which the pool awaits
 * before the first query and which discards the connection when it fails: no query can run in the
 * wrong schema. (The `options=-c search_path=...` startup parameter would save that round trip per
 * new connection.)
 *
 * @example
 * const pool = createPool(process.env.DATABASE_URL!, { schema: 'pos_auth', max: 10 });
 * await migrate(pool);
 * const eventStore = createPostgresEventStore(pool);
 */
export const createPool = (connectionString: string, options: PoolOptions = {}): pg.Pool => {
  const { schema, max } = options;
  if (schema !== undefined && schema.length === 0) throw new TypeError('createPool: schema must not be empty');
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new TypeError(`createPool: max must be a whole number from 1, got ${String(max)}`);
  }
  const setSearchPath = schema === undefined ? undefined : `SET search_path TO ${pg.escapeIdentifier(schema)}`;
  const pool = new pg.Pool({
    connectionString,
    types: typeParsers,
    ...(max === undefined ? {} : { max }),
    ...(setSearchPath === undefined
      ? {}
      : {
          onConnect: async (client: pg.ClientBase) => {
            await client.query(setSearchPath);
          },
        }),
  });
  // An idle connection that the server drops emits 'error' on the pool; without a listener that
  // would crash the process. The pool already discards the broken connection and opens a new one.
  pool.on('error', () => {});
  return pool;
};
