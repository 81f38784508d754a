import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultSettings, type Clock, type PasswordHasher, type Settings } from '@pos-auth/domain';
import { createArgon2PasswordHasher, createPostgresIpRateLimiter, isMigrated, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema, type TestDatabaseRef } from '@pos-auth/infrastructure/testing';
import { pino, type Logger } from 'pino';
import type pg from 'pg';
import type { AccessTokenOptions } from './access-token-keys.js';
import type { ClientSeed } from './config.js';
import { createAuthDeps, seedClients, startTokenCacheListener, type Runtime } from './composition.js';
import { checkRepliesAgainst, stopCheckingReplies } from './e2e/http.js';
import { openApiDocument } from './openapi.js';
import { startConsumers } from './consumers.js';
import { createApp } from './rest/app.js';
import { answerMalformedRequests } from './rest/client-errors.js';

export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly deps: Runtime;
  readonly pool: pg.Pool;
  /** The server's schema, also the `application_name` of its connections (a CLI process reaches it with `schemaDatabaseUrl`). */
  readonly schema: string;
  readonly client: ClientSeed;
  close(): Promise<void>;
}

export const testClient: ClientSeed = { clientId: 'admin-panel', clientSecret: 'admin-panel-secret' };

/**
 * The real app on a fresh schema of the test database, listening on a free loopback port: real
 * HTTP, real PostgreSQL, real argon2. One client, `testClient`, is registered. Every reply the
 * e2e helper `request` gets from it is checked against its OpenAPI document.
 *
 * @example
 * const server = await startTestServer(inject('testDatabase'));
 * await fetch(`${server.url}/health/ready`);
 * await server.close();
 */
export const startTestServer = async (
  database: TestDatabaseRef,
  options: {
    readonly settings?: Partial<Settings>;
    /** The pool's size (default 10). */
    readonly poolMax?: number;
    readonly clients?: readonly ClientSeed[];
    readonly logger?: Logger;
    /** The real argon2id hasher unless given (a test may count calls, or make hashing cheap). */
    readonly passwordHasher?: PasswordHasher;
    /** JWT access tokens' issuer, audience and keys. */
    readonly accessTokens?: AccessTokenOptions;
    /** `RATE_LIMIT_IP_PER_MINUTE`; no per-IP limit unless given. */
    readonly ipLimitPerMinute?: number;
    /** `TRUST_PROXY` (off unless given). */
    readonly trustProxy?: string;
    /** The system clock unless given (a test may hold time still, or move it on). */
    readonly clock?: Clock;
  } = {},
): Promise<TestServer> => {
  const schema = await createTestSchema(database, options.poolMax === undefined ? {} : { max: options.poolMax });
  const logger = options.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  // As a service runs: token checks answer from the cache its listener keeps current.
  const invalidations = await startTokenCacheListener(schema.pool, logger);
  const created = await createAuthDeps(schema.pool, {
    invalidationListener: invalidations,
    passwordHasher: options.passwordHasher ?? (await createArgon2PasswordHasher()),
    commonPasswords: await loadZxcvbnCommonPasswords(),
    settings: { ...defaultSettings, ...options.settings },
    ...(options.accessTokens === undefined ? {} : { accessTokens: options.accessTokens }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const deps = options.clock === undefined ? created : { ...created, clock: options.clock };
  await seedClients(deps, options.clients ?? [testClient], logger);
  const ipLimiter = options.ipLimitPerMinute === undefined ? undefined : await createPostgresIpRateLimiter(schema.pool, { limit: options.ipLimitPerMinute });
  const consumers = startConsumers(schema.pool, deps.eventStore, logger);
  // Listening first, so that the app's issuer (RFC 8414) is the very URL the tests call.
  const server = createServer();
  answerMalformedRequests(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The issuer of JWTs, when a test sets one (a proxy in front of the server), is the RFC 8414 issuer too.
  const issuer = options.accessTokens?.issuer ?? url;
  server.on(
    'request',
    createApp({
      deps,
      logger,
      isReady: () => isMigrated(schema.pool),
      corsOrigins: ['http://admin.example.test'],
      issuer,
      signingKeys: deps.signingKeys,
      ipLimiter,
      trustProxy: options.trustProxy ?? false,
    }),
  );
  checkRepliesAgainst(url, openApiDocument(issuer));
  return {
    url,
    deps,
    pool: schema.pool,
    schema: schema.schema,
    client: options.clients?.[0] ?? testClient,
    close: async () => {
      stopCheckingReplies(url);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await consumers.stop();
      await invalidations.stop();
      await schema.drop();
    },
  };
};

/** `Authorization: Basic` for a client, id and secret form-urlencoded first (RFC 6749 §2.3.1). */
export const basicAuth = (client: ClientSeed): string => {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
};

export { startCountingProxy, type CountingProxy } from './e2e/counting-proxy.js';
