import {
  ClientAlreadyRegisteredError,
  registerClient,
  type AuthDeps,
  type Clock,
  type AuthObserver,
  type CommonPasswords,
  type PasswordHasher,
  type RequestContext,
  type Settings,
} from '@pos-auth/domain';
import {
  closePool,
  createArgon2PasswordHasher,
  createBoundedPasswordHasher,
  createHmacPseudonymizer,
  createInProcessKeyedLock,
  createJitteredBackoff,
  createPool,
  createPosAuthPersistence,
  createPostgresIpRateLimiter,
  createSha256Digester,
  createTokenGenerator,
  ensureProjectionsCurrent,
  loadZxcvbnCommonPasswords,
  migrate,
  parseSigningKeySet,
  randomUuidGenerator,
  startEmbeddedPostgres,
  startInvalidationListener,
  systemClock,
  type InvalidationListener,
  type IpRateLimiter,
  type PostgresEventStore,
  type SigningKeys,
} from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type pg from 'pg';
import { ConfigError, type ClientSeed, type Config } from './config.js';
import { createAccessTokenKeys, type AccessTokenOptions } from './access-token-keys.js';
import type { Metrics } from './observability/metrics.js';

/** The observer without metrics (tests, the CLI's commands): outcomes go nowhere. */
const unobserved: AuthObserver = {
  loginAttempted: () => undefined,
  refreshAttempted: () => undefined,
};

/**
 * The use cases' ports, the concrete event store behind them (for rebuilds and audits), and the
 * keys that sign JWT access tokens (for the JWKS).
 */
export interface Runtime extends AuthDeps {
  readonly eventStore: PostgresEventStore;
  readonly signingKeys: SigningKeys;
}

/**
 * Wires the adapters into the use cases' ports on a migrated pool. The pool is passed in, so tests
 * and the server share one path. With `metrics`, the hasher and the event store are timed, the pool
 * watched and the use cases' outcomes counted.
 *
 * @example
 * const deps = await createAuthDeps(pool, {
 *   passwordHasher: await createArgon2PasswordHasher(),
 *   commonPasswords: await loadZxcvbnCommonPasswords(),
 *   settings: defaultSettings,
 * });
 */
export const createAuthDeps = async (
  pool: pg.Pool,
  options: {
    readonly passwordHasher: PasswordHasher;
    readonly commonPasswords: CommonPasswords;
    readonly settings: Settings;
    /** JWT access tokens' issuer, audience and keys (see `createAccessTokenKeys`). */
    readonly accessTokens?: AccessTokenOptions;
    readonly clock?: Clock;
    /** False only for `pnpm bench` (see `Config.eventLogIntegrity`); the pool must then also start without the chain. */
    readonly eventLogIntegrity?: boolean;
    readonly metrics?: Metrics | undefined;
    /** Token checks answer from a cache this listener keeps current (see `cacheTokenChecks`); none without one. */
    readonly invalidationListener?: InvalidationListener | undefined;
  },
): Promise<Runtime> => {
  const { eventStore, auditLog, loginActivity, users, sessions, clients, serviceKeys } = await createPosAuthPersistence(pool, {
    sealPersonalData: options.eventLogIntegrity ?? true,
    ...(options.invalidationListener === undefined ? {} : { invalidationListener: options.invalidationListener }),
  });
  const clock = options.clock ?? systemClock;
  const { signingKeys, accessTokenSigner } = await createAccessTokenKeys(pool, { ...options.accessTokens, settings: options.settings, clock });
  const { metrics } = options;
  metrics?.watchPool(pool);
  return {
    eventStore: metrics?.timeAppends(eventStore) ?? eventStore,
    signingKeys,
    auditLog,
    loginActivity,
    users,
    sessions,
    clients,
    passwordHasher: metrics?.timePasswordHashing(options.passwordHasher) ?? options.passwordHasher,
    commonPasswords: options.commonPasswords,
    tokens: createTokenGenerator(serviceKeys.tokenDerivation),
    accessTokenSigner,
    digester: createSha256Digester(),
    pseudonymizer: createHmacPseudonymizer(serviceKeys.userNameHmac),
    clock,
    ids: randomUuidGenerator,
    backoff: createJitteredBackoff(),
    loginLock: createInProcessKeyedLock(),
    settings: options.settings,
    observer: metrics?.observer ?? unobserved,
  };
};

export interface Database {
  readonly pool: pg.Pool;
  /** Where the data lives, for the start-up log line (never the password). */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * A PostgreSQL server when `DATABASE_URL` is set, else the embedded PostgreSQL in `DATA_DIR`. A
 * connection the database drops is logged when a logger is given; the pool replaces it.
 */
export const openDatabase = async (config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'eventLogIntegrity'>>, logger?: Logger): Promise<Database> => {
  // The hash chain is the append function's: switched off per connection (migration 008).
  const settings = config.eventLogIntegrity === false ? { 'pos_auth.event_chain': 'off' } : {};
  const onConnectionError = (error: Error) => logger?.warn({ err: error }, 'database connection lost');
  if (config.databaseUrl !== null) {
    const pool = createPool(config.databaseUrl, { onConnectionError, settings });
    const url = new URL(config.databaseUrl);
    return {
      pool,
      description: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: () => pool.end(),
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  const pool = createPool(embedded.connectionString, { onConnectionError, settings });
  return {
    pool,
    description: `embedded PostgreSQL 18 in ${config.dataDir}`,
    close: async () => {
      await closePool(pool);
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
  accessTokenFormat: config.accessTokenFormat,
  accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
  refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
  login: { failureLimit: config.loginFailureLimit, maxWindowSeconds: 15 * 60 },
});

/** JWT access tokens' options from the configuration; keys that do not parse stop the start. */
export const accessTokenOptionsFrom = async (config: Config): Promise<AccessTokenOptions> => {
  try {
    return {
      issuer: config.issuer,
      audience: config.accessTokenAudience,
      configuredKeys: config.accessTokenSigningKeys === null ? null : await parseSigningKeySet(config.accessTokenSigningKeys),
    };
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ACCESS_TOKEN_SIGNING_KEYS: ${(error as Error).message}`);
  }
};

/** The per-IP budget of `RATE_LIMIT_IP_PER_MINUTE` on the database; undefined when it is 0 (off). */
export const ipLimiterFrom = (pool: pg.Pool, config: Pick<Config, 'rateLimitIpPerMinute'>): Promise<IpRateLimiter | undefined> =>
  config.rateLimitIpPerMinute === 0 ? Promise.resolve(undefined) : createPostgresIpRateLimiter(pool, { limit: config.rateLimitIpPerMinute });

/**
 * What `createAuthDeps` takes, from the configuration: argon2id within the default bounds on
 * concurrent operations, the common-password dictionary, the settings and the JWT options. The
 * service and the operator's commands (`pos-auth users ...`) build their ports from the same.
 */
export const authDepsOptionsFrom = async (config: Config) => ({
  passwordHasher: createBoundedPasswordHasher(await createArgon2PasswordHasher()),
  commonPasswords: await loadZxcvbnCommonPasswords(),
  settings: settingsFrom(config),
  eventLogIntegrity: config.eventLogIntegrity,
  accessTokens: await accessTokenOptionsFrom(config),
});

/**
 * The listener that keeps this instance's token-check cache current; while its connection is away
 * the cache is off (logged), and it reconnects by itself.
 */
export const startTokenCacheListener = (pool: pg.Pool, logger: Logger): Promise<InvalidationListener> => {
  let lost = false;
  return startInvalidationListener(pool, {
    onUnconfirmed: (details) => logger.warn(details, 'a change to cached token checks was not confirmed by every instance within 2 s'),
    onStateChange: (state, error) => {
      if (state === 'lost') logger.warn({ err: error }, 'token-check cache off: its invalidation listener lost the database connection');
      else if (lost) logger.info('token-check cache on again: its invalidation listener is back');
      lost = state === 'lost';
    },
  });
};

/**
 * Opens the database, migrates it, brings the projections up to date and builds the ports, with
 * argon2id within the default bounds on concurrent operations, the per-IP limiter, and the
 * token-check cache's listener.
 */
export const createRuntime = async (config: Config, logger: Logger, metrics?: Metrics) => {
  const database = await openDatabase(config, logger);
  let invalidations: InvalidationListener | undefined;
  try {
    const { applied } = await migrate(database.pool);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    if (!config.eventLogIntegrity) {
      logger.warn('EVENT_LOG_INTEGRITY=off-for-benchmarks: events are written unchained and with personal data in clear; never in production');
    }
    invalidations = await startTokenCacheListener(database.pool, logger);
    const deps = await createAuthDeps(database.pool, { ...(await authDepsOptionsFrom(config)), metrics, invalidationListener: invalidations });
    const ipLimiter = await ipLimiterFrom(database.pool, config);
    const projections = await ensureProjectionsCurrent(database.pool, deps.eventStore);
    if (projections.rebuilt) logger.info({ replayed: projections.replayed }, 'projections rebuilt from the event log');
    await seedClients(deps, config.authClients, logger);
    return { database, deps, ipLimiter, invalidations };
  } catch (error) {
    await invalidations?.stop();
    await database.close().catch(() => undefined);
    throw error;
  }
};
