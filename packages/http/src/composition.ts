import {
  ClientAlreadyRegisteredError,
  registerClient,
  type AuthDeps,
  type PasswordHasher,
  type RequestContext,
  type Settings,
} from '@pos-auth/domain';
import {
  createArgon2PasswordHasher,
  createHmacPseudonymizer,
  createJitteredBackoff,
  createPool,
  createPosAuthPersistence,
  createSha256Digester,
  createTokenGenerator,
  ensureProjectionsCurrent,
  migrate,
  randomUuidGenerator,
  startEmbeddedPostgres,
  systemClock,
  type PostgresEventStore,
} from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { ClientSeed, Config } from './config.js';

/** The use cases' ports, and the concrete event store behind them (for rebuilds and audits). */
export interface Runtime extends AuthDeps {
  readonly eventStore: PostgresEventStore;
}

/**
 * Wires the adapters into the use cases' ports on a migrated pool. The pool is passed in, so tests
 * and the server share one path.
 *
 * @example
 * const deps = await createAuthDeps(pool, { passwordHasher: await createArgon2PasswordHasher(), settings: defaultSettings });
 */
export const createAuthDeps = async (
  pool: pg.Pool,
  options: { readonly passwordHasher: PasswordHasher; readonly settings: Settings },
): Promise<Runtime> => {
  const { eventStore, auditLog, loginActivity, users, sessions, clients, serviceKeys } = await createPosAuthPersistence(pool);
  return {
    eventStore,
    auditLog,
    loginActivity,
    users,
    sessions,
    clients,
    passwordHasher: options.passwordHasher,
    tokens: createTokenGenerator(serviceKeys.tokenDerivation),
    digester: createSha256Digester(),
    pseudonymizer: createHmacPseudonymizer(serviceKeys.userNameHmac),
    clock: systemClock,
    ids: randomUuidGenerator,
    backoff: createJitteredBackoff(),
    settings: options.settings,
  };
};

export interface Database {
  readonly pool: pg.Pool;
  /** Where the data lives, for the start-up log line (never the password). */
  readonly description: string;
  close(): Promise<void>;
}

/** A PostgreSQL server when `DATABASE_URL` is set, else the embedded PostgreSQL in `DATA_DIR`. */
export const openDatabase = async (config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> => {
  if (config.databaseUrl !== null) {
    const pool = createPool(config.databaseUrl);
    const url = new URL(config.databaseUrl);
    return {
      pool,
      description: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: () => pool.end(),
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  const pool = createPool(embedded.connectionString, { max: embedded.poolMax });
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

/** The use cases' settings from the configuration. */
export const settingsFrom = (config: Config): Settings => ({
  accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
  refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
  login: { failureLimit: config.loginFailureLimit, maxWindowSeconds: 15 * 60 },
});

/** Opens the database, migrates it, brings the projections up to date and builds the ports. */
export const createRuntime = async (config: Config, logger: Logger) => {
  const database = await openDatabase(config);
  try {
    const { applied } = await migrate(database.pool);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const deps = await createAuthDeps(database.pool, { passwordHasher: await createArgon2PasswordHasher(), settings: settingsFrom(config) });
    const projections = await ensureProjectionsCurrent(database.pool, deps.eventStore);
    if (projections.rebuilt) logger.info({ replayed: projections.replayed }, 'projections rebuilt from the event log');
    await seedClients(deps, config.authClients, logger);
    return { database, deps };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
};
