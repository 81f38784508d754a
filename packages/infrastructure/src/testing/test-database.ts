import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../embedded/embedded-postgres.js';

/** Where the tests' database is. */
export interface TestDatabaseRef {
  readonly url: string;
}

export interface TestDatabase {
  readonly url: string;
  /** Drops what was created for this run. */
  stop(): Promise<void>;
}

const noContainerRuntime = 'Could not find a working container runtime strategy';

/**
 * The embedded server's connection limit in tests: every test file's pool (up to 32 racers) in
 * every worker at once, with room for the servers that e2e tests start on it.
 */
const testConnections = 200;

const databaseUrlWith = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
};

const withClient = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

/** A database of its own on the server at `url`, dropped at the end of the run. */
const createServerDatabase = async (url: string): Promise<TestDatabase> => {
  const name = `pos_auth_test_${randomBytes(6).toString('hex')}`;
  const quoted = pg.escapeIdentifier(name);
  await withClient(url, (client) => client.query(`CREATE DATABASE ${quoted}`));
  return {
    url: databaseUrlWith(url, name),
    stop: () =>
      withClient(url, async (client) => {
        try {
          // FORCE (PostgreSQL 13+) ends connections a crashed test file left behind.
          await client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
        } catch (error) {
          if (!(error instanceof pg.DatabaseError && error.code === '42601')) throw error;
          await client.query(`DROP DATABASE IF EXISTS ${quoted}`);
        }
      }),
  };
};

const startContainer = async (): Promise<TestDatabase | null> => {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  try {
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    return {
      url: container.getConnectionUri(),
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    if (error instanceof Error && error.message.includes(noContainerRuntime)) return null;
    throw error;
  }
};

/**
 * The database a test run uses (DESIGN.md, "Tests"): a fresh database on the server named by
 * `TEST_DATABASE_URL` when set; else a PostgreSQL 15 container when a container runtime answers;
 * else an embedded PostgreSQL in a temporary directory. Called once per run, by the global setup.
 *
 * @example
 * const database = await startTestDatabase(process.env, console.log);
 * try { ... } finally { await database.stop(); }
 */
export const startTestDatabase = async (
  env: { readonly TEST_DATABASE_URL?: string | undefined } = process.env,
  log: (line: string) => void = () => {},
): Promise<TestDatabase> => {
  const url = env.TEST_DATABASE_URL;
  if (url !== undefined && url !== '') {
    const database = await createServerDatabase(url);
    log(`test database: ${new URL(database.url).pathname.slice(1)} on TEST_DATABASE_URL`);
    return database;
  }
  const container = await startContainer();
  if (container !== null) {
    log('test database: postgres:15-alpine container (Testcontainers)');
    return container;
  }
  log('test database: no TEST_DATABASE_URL and no container runtime; using an embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({ dataDir: null, maxConnections: testConnections });
  return { url: embedded.connectionString, stop: () => embedded.stop() };
};
