import {
  ClientAlreadyRegisteredError,
  registerClient,
  type AuthDeps,
  type CommonPasswords,
  type PasswordHasher,
  type RequestContext,
  type TokenSettings,
} from '@pos-auth/domain';
import {
  createArgon2PasswordHasher,
  createPool,
  createPostgresEventStore,
  createPostgresReadModels,
  createRandomTokenGenerator,
  createSha256Digester,
  loadZxcvbnCommonPasswords,
  migrate,
  randomUuidGenerator,
  startEmbeddedPostgres,
  systemClock,
} from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { ClientSeed, Config } from './config.js';

/**
 * Wires the adapters into the use cases' ports. The pool is passed in, so tests and the server
 * share one path.
 *
 * @example
 * const deps = createAuthDeps(pool, {
 *   passwordHasher: await createArgon2PasswordHasher(),
 *   commonPasswords: await loadZxcvbnCommonPasswords(),
 *   settings: defaultTokenSettings,
 * });
 */
export const createAuthDeps = (
  pool: pg.Pool,
  options: { readonly passwordHasher: PasswordHasher; readonly commonPasswords: CommonPasswords; readonly settings: TokenSettings },
): AuthDeps => ({
  eventStore: createPostgresEventStore(pool),
  ...createPostgresReadModels(pool),
  passwordHasher: options.passwordHasher,
  commonPasswords: options.commonPasswords,
  tokens: createRandomTokenGenerator(),
  digester: createSha256Digester(),
  clock: systemClock,
  ids: randomUuidGenerator,
  settings: options.settings,
});

export interface Database {
  readonly pool: pg.Pool;
  /** Where the data lives, for the start-up log line (never the password). */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * A PostgreSQL server when `DATABASE_URL` is set, else the embedded PGlite in `DATA_DIR`. A
 * connection the database drops is logged when a logger is given; the pool replaces it.
 */
export const openDatabase = async (config: Pick<Config, 'databaseUrl' | 'dataDir'>, logger?: Logger): Promise<Database> => {
  const onConnectionError = (error: Error) => logger?.warn({ err: error }, 'database connection lost');
  if (config.databaseUrl !== null) {
    const pool = createPool(config.databaseUrl, { onConnectionError });
    const url = new URL(config.databaseUrl);
    return {
      pool,
      description: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: () => pool.end(),
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  const pool = createPool(embedded.connectionString, { max: embedded.poolMax, onConnectionError });
  return {
    pool,
    description: `embedded PGlite in ${config.dataDir}`,
    close: async () => {
      await pool.end();
      await embedded.stop();
    },
  };
};

const startupContext: RequestContext = { requestId: 'startup' };

/** Registers the `AUTH_CLIENTS` that are missing; an existing client keeps its secret. */
export const seedClients = async (deps: AuthDeps, clients: readonly ClientSeed[], logger: Logger): Promise<void> => {
  for (const client of clients) {
    try {
      await registerClient(deps, client, startupContext);
      logger.info({ clientId: client.clientId }, 'client registered');
    } catch (error) {
      if (!(error instanceof ClientAlreadyRegisteredError)) throw error;
    }
  }
};

/** Opens the database, migrates it and builds the ports: everything the server needs. */
export const createRuntime = async (config: Config, logger: Logger) => {
  const database = await openDatabase(config, logger);
  try {
    const { applied } = await migrate(database.pool);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const deps = createAuthDeps(database.pool, {
      passwordHasher: await createArgon2PasswordHasher(),
      commonPasswords: await loadZxcvbnCommonPasswords(),
      settings: { accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlSeconds: config.refreshTokenTtlSeconds },
    });
    await seedClients(deps, config.authClients, logger);
    return { database, deps };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
};
