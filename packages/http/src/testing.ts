import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultSettings, type PasswordHasher, type Settings } from '@pos-auth/domain';
import { createArgon2PasswordHasher, isMigrated, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema, type TestDatabaseRef } from '@pos-auth/infrastructure/testing';
import { pino, type Logger } from 'pino';
import type pg from 'pg';
import type { ClientSeed } from './config.js';
import { createAuthDeps, seedClients, type Runtime } from './composition.js';
import { checkRepliesAgainst, stopCheckingReplies } from './e2e/http.js';
import { openApiDocument } from './openapi.js';
import { createApp } from './rest/app.js';
import { answerMalformedRequests } from './rest/client-errors.js';

export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly deps: Runtime;
  readonly pool: pg.Pool;
  /** The server's schema, also the `application_name` of its connections. */
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
  } = {},
): Promise<TestServer> => {
  const schema = await createTestSchema(database, options.poolMax === undefined ? {} : { max: options.poolMax });
  const logger = options.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const deps = await createAuthDeps(schema.pool, {
    passwordHasher: options.passwordHasher ?? (await createArgon2PasswordHasher()),
    commonPasswords: await loadZxcvbnCommonPasswords(),
    settings: { ...defaultSettings, ...options.settings },
  });
  await seedClients(deps, options.clients ?? [testClient], logger);
  // Listening first, so that the app's issuer (RFC 8414) is the very URL the tests call.
  const server = createServer();
  answerMalformedRequests(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', createApp({ deps, logger, isReady: () => isMigrated(schema.pool), corsOrigins: ['http://admin.example.test'], issuer: url }));
  checkRepliesAgainst(url, openApiDocument(url));
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
      await schema.drop();
    },
  };
};

/** `Authorization: Basic` for a client, id and secret form-urlencoded first (RFC 6749 §2.3.1). */
export const basicAuth = (client: ClientSeed): string => {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
};
