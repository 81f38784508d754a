import pg from 'pg';

export interface PoolOptions {
  /**
   * The schema every connection of the pool works in. Unqualified table names resolve to it, so
   * one database can hold several independent pos-auth instances (each test file gets one).
   */
  readonly schema?: string;
  /** Most connections the pool opens (pg's default is 10). */
  readonly max?: number;
  /**
   * How long a request waits for a connection (a free one, or a new one being opened) before it
   * fails; without a bound, requests hang for as long as the database does not answer.
   */
  readonly connectionTimeoutMillis?: number;
  /** `application_name` of every connection: what `pg_stat_activity` shows a DBA. */
  readonly applicationName?: string;
  /**
   * Told about every connection the database drops or breaks, idle or checked out, for the log.
   * The pool has already discarded that connection; the next request opens a new one.
   */
  readonly onConnectionError?: (error: Error) => void;
  /** Settings every connection starts with (`-c name=value`), e.g. `pos_auth.event_chain: 'off'`. */
  readonly settings?: Readonly<Record<string, string>>;
}

export const poolDefaults = { connectionTimeoutMillis: 5_000, applicationName: 'pos-auth' } as const;

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
 * Startup settings of every connection (`options`). `plan_cache_mode=force_generic_plan`: pos-auth's hot
 * statements are named prepared statements of point lookups and appends, for which the generic
 * plan is the right one. Left to choose, PostgreSQL kept planning them afresh at every Bind (a
 * custom plan): measured on the refresh path, 0.2-0.3 ms of planning at Bind against 0.06 ms to
 * execute the lookup. Queries whose best plan depends on their parameters build their SQL per
 * combination of filters instead of `$n IS NULL OR ...`. Options already in the connection string
 * come after these, so an operator's setting wins.
 */
const withStartupOptions = (
  connectionString: string,
  settings: Readonly<Record<string, string>> = {},
): { readonly connectionString: string; readonly options: string } => {
  const ours = Object.entries({ plan_cache_mode: 'force_generic_plan', ...settings })
    .map(([name, value]) => {
      if (!/^[a-z_][a-z0-9_.]*$/u.test(name) || !/^[\w.-]+$/u.test(value)) throw new TypeError(`createPool: not a plain setting: ${name}=${value}`);
      return `-c ${name}=${value}`;
    })
    .join(' ');
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    // Not a URL (a key=value string): pg reads it as it is.
    return { connectionString, options: ours };
  }
  const given = url.searchParams.get('options');
  // pg lets the connection string's `options` replace the config's: merged here, taken out there.
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: given === null ? ours : `${ours} ${given}` };
};

/**
 * Creates a `pg` pool for pos-auth: int8 parsed as `bigint`, generic plans for prepared statements
 * (`withStartupOptions`), and, when `schema` is given, every connection switched to that schema before
 * the pool hands it out.
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
  const { schema, max, onConnectionError = () => {} } = options;
  if (schema !== undefined && schema.length === 0) throw new TypeError('createPool: schema must not be empty');
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new TypeError(`createPool: max must be a whole number from 1, got ${String(max)}`);
  }
  const connectionTimeoutMillis = options.connectionTimeoutMillis ?? poolDefaults.connectionTimeoutMillis;
  if (!(Number.isInteger(connectionTimeoutMillis) && connectionTimeoutMillis >= 1)) {
    throw new TypeError(`createPool: connectionTimeoutMillis must be a whole number from 1, got ${String(connectionTimeoutMillis)}`);
  }
  const setSearchPath = schema === undefined ? undefined : `SET search_path TO ${pg.escapeIdentifier(schema)}`;
  const pool = new pg.Pool({
    ...withStartupOptions(connectionString, options.settings),
    types: typeParsers,
    connectionTimeoutMillis,
    application_name: options.applicationName ?? poolDefaults.applicationName,
    // Finds a peer that vanished without closing the connection (a host or network gone).
    keepAlive: true,
    ...(max === undefined ? {} : { max }),
    ...(setSearchPath === undefined
      ? {}
      : {
          onConnect: async (client: pg.ClientBase) => {
            await client.query(setSearchPath);
          },
        }),
  });
  // A connection that breaks emits 'error'; an 'error' event without a listener ends the process.
  // The pool listens to its idle connections (and re-emits on itself), but not to a checked-out
  // one: a connection that the server terminates while a transaction holds it (a failover, a
  // restart, pg_terminate_backend) would crash the service. So every connection gets a listener
  // for its whole life. The query in flight, if any, rejects on its own; later ones fail at once
  // ("not queryable"), and the connection is destroyed when it is released.
  pool.on('connect', (client) => {
    // pg reports a lost connection twice (the server's FATAL, then "Connection terminated
    // unexpectedly"): the first one says why, once is enough.
    let reported = false;
    client.on('error', (error) => {
      if (!reported) onConnectionError(error);
      reported = true;
    });
  });
  // The pool re-emits an idle connection's error on itself; the listener above reported it.
  pool.on('error', () => {});
  return pool;
};

/**
 * Ends the pool and resolves once every connection of it has really closed. `pool.end()` alone
 * resolves as soon as it has asked each connection to end: a database stopped right after it
 * (the embedded one, at shutdown) would still find backends to terminate, and their connections
 * would report it as an error.
 *
 * @example
 * await closePool(pool);
 * await embedded.stop();
 */
export const closePool = async (pool: pg.Pool): Promise<void> => {
  const open = pool.totalCount;
  let closed = 0;
  const allClosed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      closed += 1;
      if (closed >= open) resolve();
    });
  });
  await pool.end();
  await allClosed;
};
