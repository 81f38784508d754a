import type { AddressInfo } from 'node:net';
import { defaultSettings, type Settings } from '@pos-auth/domain';
import { createArgon2PasswordHasher, isMigrated } from '@pos-auth/infrastructure';
import { createTestSchema, type TestDatabaseRef } from '@pos-auth/infrastructure/testing';
import { pino, type Logger } from 'pino';
import type pg from 'pg';
import type { ClientSeed } from './config.js';
import { createAuthDeps, seedClients, type Runtime } from './composition.js';
import { startConsumers } from './consumers.js';
import { createApp } from './rest/app.js';

export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly deps: Runtime;
  readonly pool: pg.Pool;
  /** The schema its tables are in (a CLI run reaches it with `cliDatabaseUrl`). */
  readonly schema: string;
  readonly client: ClientSeed;
  close(): Promise<void>;
}

export const testClient: ClientSeed = { clientId: 'admin-panel', clientSecret: 'admin-panel-secret' };

/**
 * The real app on a fresh schema of the test database, listening on a free loopback port: real
 * HTTP, real PostgreSQL, real argon2. One client, `testClient`, is registered.
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
    /** The pool's size on a server (default 10); PGlite always gets 1. */
    readonly poolMax?: number;
    readonly clients?: readonly ClientSeed[];
    readonly logger?: Logger;
    /** Express's `trust proxy`, so that a test can send its client IP in `X-Forwarded-For`. */
    readonly trustProxy?: string;
  } = {},
): Promise<TestServer> => {
  const schema = await createTestSchema(database, options.poolMax === undefined ? {} : { max: options.poolMax });
  const logger = options.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const deps = await createAuthDeps(schema.pool, {
    passwordHasher: await createArgon2PasswordHasher(),
    settings: { ...defaultSettings, ...options.settings },
  });
  await seedClients(deps, options.clients ?? [testClient], logger);
  const consumers = startConsumers(schema.pool, deps.eventStore, logger);
  const app = createApp({
    deps,
    logger,
    isReady: () => isMigrated(schema.pool),
    corsOrigins: ['http://admin.example.test'],
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    pool: schema.pool,
    schema: schema.schema,
    client: options.clients?.[0] ?? testClient,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await consumers.stop();
      await schema.drop();
    },
  };
};

/** `Authorization: Basic` for a client, id and secret form-urlencoded first (RFC 6749 §2.3.1). */
export const basicAuth = (client: ClientSeed): string => {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
};
