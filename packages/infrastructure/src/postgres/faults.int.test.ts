import { createServer, type AddressInfo, type Socket } from 'node:net';
import { normalizeUserName, userStreamId } from '@pos-auth/domain';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { metadata, newUserId, userRegistered } from '../testing/fixtures.js';
import { createPosAuthPersistence } from '../persistence.js';
import { createPool } from './pool.js';
import { inTransaction } from './transaction.js';
import { isDatabaseUnavailable } from './unavailable.js';

/**
 * Connections that the server ends under the service's feet (pg_terminate_backend: what a
 * failover, a restart or a DBA does), and a server that is not there at all.
 */
describe('database faults', () => {
  let db: TestSchema;
  let admin: pg.Client;
  const uncaught: unknown[] = [];
  const trap = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    process.on('uncaughtException', trap);
    db = await createTestSchema(inject('testDatabase'), { max: 2 });
    admin = new pg.Client({ connectionString: db.connectionString });
    await admin.connect();
    await admin.query(`SET search_path TO ${pg.escapeIdentifier(db.schema)}`);
  });
  afterAll(async () => {
    process.off('uncaughtException', trap);
    await admin?.end();
    await db?.drop();
  });

  /** Ends the pool's connections that match `where` (on pg_stat_activity); resolves with how many. */
  const terminate = async (where = 'true'): Promise<number> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() AND ${where}`,
      [db.schema],
    );
    for (const { pid } of rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    return rows.length;
  };

  const rowsOf = async (userId: string) => {
    const streamId = userStreamId(userId as never);
    const { rows } = await admin.query<{ events: number; streams: number; claims: number; credentials: number; users: number }>(
      `SELECT (SELECT count(*)::int FROM events WHERE stream_id = $1) AS events,
              (SELECT count(*)::int FROM streams WHERE stream_id = $1) AS streams,
              (SELECT count(*)::int FROM claims WHERE stream_id = $1) AS claims,
              (SELECT count(*)::int FROM user_credentials WHERE user_id = $2) AS credentials,
              (SELECT count(*)::int FROM users WHERE user_id = $2) AS users`,
      [streamId, userId],
    );
    return rows[0];
  };

  it('an append whose connection is terminated mid-transaction is not acknowledged and leaves nothing behind', async () => {
    const store = (await createPosAuthPersistence(db.pool)).eventStore;
    const userId = newUserId();
    const name = normalizeUserName('interrupted') as { display: string; key: string };
    const append = () =>
      store.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: name.display, userNameKey: name.key })], {
        expectedVersion: 'no_stream',
        metadata: metadata(),
        claims: [{ kind: 'user_name', value: name.key }],
        credentials: [{ kind: 'password', userId, hash: '$argon2id$v=19$fake' }],
      });

    // The claims table locked: the append writes its stream row and event, then waits on the claim.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE claims IN ACCESS EXCLUSIVE MODE');
    const interrupted = append().then(
      () => 'acknowledged',
      (error: unknown) => error,
    );
    await vi.waitFor(async () => expect(await terminate("wait_event_type = 'Lock'")).toBe(1), { timeout: 10_000, interval: 20 });
    await admin.query('ROLLBACK');

    const outcome = await interrupted;
    expect(outcome).not.toBe('acknowledged');
    expect(isDatabaseUnavailable(outcome)).toBe(true);
    expect(await rowsOf(userId)).toEqual({ events: 0, streams: 0, claims: 0, credentials: 0, users: 0 });

    // The pool replaced the connection: the same append now goes through, whole.
    await append();
    expect(await rowsOf(userId)).toEqual({ events: 1, streams: 1, claims: 1, credentials: 1, users: 1 });
    expect(uncaught).toEqual([]);
  });

  it('a connection terminated while a transaction holds it between two statements does not end the process', async () => {
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const errors: Error[] = [];
    const pool = createPool(db.connectionString, {
      schema: db.schema,
      applicationName: db.schema,
      max: 1,
      onConnectionError: (error) => errors.push(error),
    });
    try {
      const transaction = inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        await paused;
        return client.query('SELECT 2');
      }).then(
        () => 'committed',
        (error: unknown) => error,
      );
      // Idle in transaction: no query is in flight, so pg reports the loss as an 'error' event.
      await vi.waitFor(async () => expect(await terminate("state = 'idle in transaction'")).toBe(1), { timeout: 10_000, interval: 20 });
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
      resume();

      const outcome = await transaction;
      expect(isDatabaseUnavailable(outcome)).toBe(true);
      expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['57P01']);
      expect((await pool.query<{ n: number }>('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
      expect(uncaught).toEqual([]);
    } finally {
      resume();
      await pool.end();
    }
  });

  it('a server that refuses connections fails the request at once, as unavailable', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const pool = createPool(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1 });
    try {
      const error = await pool.query('SELECT 1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('a server that accepts the connection but never answers fails it after connectionTimeoutMillis, as unavailable', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const pool = createPool(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, connectionTimeoutMillis: 200 });
    try {
      const error = await pool.query('SELECT 1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await pool.end();
      accepted.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
