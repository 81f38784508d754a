import { randomBytes, randomUUID } from 'node:crypto';
import { normalizeUserName, sessionStreamId, userStreamId, type DomainEvent, type UserId } from '@pos-auth/domain';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createPosAuthPersistence } from '../persistence.js';
import { metadata, newSessionId, newUserId, sessionRevoked, tokenIssued, tokenRefreshed, userRegistered } from '../testing/fixtures.js';
import { createTestSchema, projectionSnapshot, replayedSnapshot, type TestSchema } from '../testing/index.js';
import type { PostgresEventStore } from './event-store.js';
import { createPool } from './pool.js';
import { pruneExpiredRows } from './pruning.js';
import { ensureProjectionsCurrent, rebuildProjections } from './rebuild.js';

const database = inject('testDatabase');

/**
 * The fixtures' instant: a rebuild leaves out token rows expired at its `now` (the pruning job's
 * work, tested with it in event-store.int.test.ts); here, as of the fixtures, it leaves out none.
 */
const asOfFixtures = { now: new Date(metadata().occurredAt) } as const;

interface Log {
  readonly db: TestSchema;
  readonly store: PostgresEventStore;
}

const openLog = async (): Promise<Log> => {
  const db = await createTestSchema(database, { max: 12 });
  return { db, store: (await createPosAuthPersistence(db.pool)).eventStore };
};

/** One append's worth of events: a registration, or a session's life. Deterministic given its ids. */
const batches = (count: number) =>
  Array.from({ length: count }, (_, index) => {
    if (index % 5 === 0) {
      const userId = newUserId();
      const name = normalizeUserName(`user${randomUUID().slice(0, 12)}`);
      if ('message' in name) throw new Error(name.message);
      return { streamId: userStreamId(userId), events: [userRegistered({ userId, userName: name.display, userNameKey: name.key, email: `${name.key}@example.test` })] as DomainEvent[] };
    }
    const sessionId = newSessionId();
    const issued = tokenIssued(sessionId, newUserId() as UserId);
    const events: DomainEvent[] = [issued, tokenRefreshed(issued)];
    if (index % 3 === 0) events.push(sessionRevoked(sessionId, issued.data.userId));
    return { streamId: sessionStreamId(sessionId), events };
  });

const appendAll = async (logs: readonly Log[], writes: ReturnType<typeof batches>) => {
  for (const write of writes) {
    for (const { store } of logs) {
      await store.appendToStream(write.streamId, write.events, { expectedVersion: 'no_stream', metadata: metadata({ requestId: write.streamId }) });
    }
  }
};

/** The tables equal a replay of the whole log (once every committed event is readable). */
const expectMatchesLog = ({ db, store }: Log) =>
  vi.waitFor(async () => expect(await projectionSnapshot(db.pool, store)).toEqual(await replayedSnapshot(store)), { timeout: 10_000, interval: 100 });

const schemasLike = async (pool: pg.Pool, prefix: string) =>
  (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE $1', [`${prefix}%`])).rows[0]!.n;

/** Names of the indexes and constraints of the projection tables, which migrations may refer to. */
const catalogNames = async (pool: pg.Pool) =>
  (
    await pool.query<{ name: string }>(
      `SELECT c.relname || ' ' || i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN ('users', 'sessions', 'refresh_tokens', 'access_tokens', 'clients')
       UNION ALL
       SELECT c.relname || ' ' || k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relname IN ('users', 'sessions', 'refresh_tokens', 'access_tokens', 'clients')
       ORDER BY 1`,
    )
  ).rows.map((row) => row.name);

describe('rebuildProjections, online', () => {
  let rebuilt: Log;
  let control: Log;

  beforeAll(async () => {
    [rebuilt, control] = await Promise.all([openLog(), openLog()]);
    await appendAll([rebuilt, control], batches(200));
  });
  afterAll(async () => {
    await rebuilt?.db.drop();
    await control?.db.drop();
  });

  it('gives what the appends gave, in new tables swapped in under their old names, and cleans up', async () => {
    const before = await projectionSnapshot(rebuilt.db.pool, rebuilt.store);
    const names = await catalogNames(rebuilt.db.pool);
    const phases = new Set<string>();
    const result = await rebuildProjections(rebuilt.db.pool, rebuilt.store, { ...asOfFixtures, onProgress: (phase) => phases.add(phase) });
    expect(result.replayed).toBe(Number((await rebuilt.db.pool.query('SELECT count(*) AS n FROM events')).rows[0].n));
    expect(result.swapAttempts).toBe(1);
    expect([...phases]).toEqual(['replay', 'write', 'catch-up', 'swap']);
    expect(await projectionSnapshot(rebuilt.db.pool, rebuilt.store)).toEqual(before);
    expect(await catalogNames(rebuilt.db.pool)).toEqual(names);
    expect(await schemasLike(rebuilt.db.pool, 'pos_auth_rebuild_')).toBe(0);
    expect(await schemasLike(rebuilt.db.pool, 'pos_auth_retired_')).toBe(0);
  });

  it('keeps serving appends while it runs: the result equals projections that were never rebuilt', async () => {
    let writing = true;
    const writer = (async () => {
      let written = 0;
      while (writing || written < 40) {
        await appendAll([rebuilt, control], batches(5));
        written += 5;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures);
    writing = false;
    await writer;
    expect(result.swapMs).toBeLessThan(1000);
    expect(await projectionSnapshot(rebuilt.db.pool, rebuilt.store)).toEqual(await projectionSnapshot(control.db.pool, control.store));
  });

  it('makes a statement that waited for the swap write the new table, prepared or not', async () => {
    // One connection each, so that their named statements are prepared before the swap.
    const writerPool = createPool(database.url, { schema: rebuilt.db.schema, max: 1 });
    const readerPool = createPool(database.url, { schema: rebuilt.db.schema, max: 1 });
    try {
      const writer = await createPosAuthPersistence(writerPool);
      const reader = await createPosAuthPersistence(readerPool);
      const login = () => {
        const sessionId = newSessionId();
        return { sessionId, event: tokenIssued(sessionId, newUserId()) };
      };
      const warmUp = login();
      await writer.eventStore.appendToStream(sessionStreamId(warmUp.sessionId), [warmUp.event], { expectedVersion: 'no_stream', metadata: metadata() });
      expect(await reader.sessions.findSessionByTokenDigest(warmUp.event.data.accessTokenDigest)).not.toBeNull();

      const queued = login();
      const plainClient = await rebuilt.db.pool.connect();
      const pidOf = async (db: Pick<pg.ClientBase, 'query'>) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const pids = [await pidOf(writerPool), await pidOf(readerPool), await pidOf(plainClient)];
      let append: Promise<unknown> | undefined;
      let read: Promise<unknown> | undefined;
      let plain: Promise<pg.QueryResult<{ n: number }>> | undefined;
      await rebuildProjections(rebuilt.db.pool, rebuilt.store, {
        ...asOfFixtures,
        beforeSwap: async () => {
          append = writer.eventStore.appendToStream(sessionStreamId(queued.sessionId), [queued.event], { expectedVersion: 'no_stream', metadata: metadata() });
          read = reader.sessions.findSessionByTokenDigest(warmUp.event.data.accessTokenDigest);
          plain = plainClient.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens');
          // All three wait for the swap's locks before it goes on.
          await vi.waitFor(
            async () => {
              const { rows } = await rebuilt.db.pool.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = ANY($1::int[])",
                [pids],
              );
              expect(rows[0]!.n).toBe(3);
            },
            { timeout: 5000, interval: 20 },
          );
        },
      });
      await append;
      expect(await read).toMatchObject({ sessionId: warmUp.sessionId });
      expect((await plain)!.rows[0]!.n).toBeGreaterThan(0);
      plainClient.release();
      // The append waited for the swap, then wrote its rows into the tables that are live now.
      expect(await reader.sessions.findSessionByTokenDigest(queued.event.data.accessTokenDigest)).toMatchObject({ sessionId: queued.sessionId });
      const { rows } = await rebuilt.db.pool.query('SELECT session_id FROM sessions WHERE session_id = $1', [queued.sessionId]);
      expect(rows).toHaveLength(1);
      await expectMatchesLog(rebuilt);
    } finally {
      await writerPool.end();
      await readerPool.end();
    }
  });

  it('backs off when the tables stay busy past its lock timeout, and tries again', async () => {
    const blocker = await rebuilt.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE sessions IN ROW EXCLUSIVE MODE');
      const rebuilding = rebuildProjections(rebuilt.db.pool, rebuilt.store, { ...asOfFixtures, lockTimeoutMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 600));
      await blocker.query('COMMIT');
      const result = await rebuilding;
      expect(result.swapAttempts).toBeGreaterThan(1);
    } finally {
      blocker.release();
    }
    await expectMatchesLog(rebuilt);
  });

  it('keeps the tables\' owner and grants', async () => {
    const role = `pos_auth_test_reader_${randomBytes(4).toString('hex')}`;
    await rebuilt.db.pool.query(`CREATE ROLE ${role}`);
    try {
      await rebuilt.db.pool.query(`GRANT SELECT ON users, sessions TO ${role}`);
      await rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures);
      const { rows } = await rebuilt.db.pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.role_table_grants WHERE grantee = $1 AND table_schema = current_schema() AND privilege_type = 'SELECT' ORDER BY 1",
        [role],
      );
      expect(rows.map((row) => row.table_name)).toEqual(['sessions', 'users']);
    } finally {
      await rebuilt.db.pool.query(`REVOKE ALL ON users, sessions FROM ${role}`);
      await rebuilt.db.pool.query(`DROP ROLE ${role}`);
    }
  });

  it('refuses a table with a trigger or a foreign key, which would stay behind on the old table', async () => {
    await rebuilt.db.pool.query(`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    await rebuilt.db.pool.query('CREATE TRIGGER touch_users BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()');
    try {
      await expect(rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures)).rejects.toThrow('Cannot rebuild users by swapping it: it has a trigger touch_users');
      expect(await schemasLike(rebuilt.db.pool, 'pos_auth_rebuild_')).toBe(0);
    } finally {
      await rebuilt.db.pool.query('DROP TRIGGER touch_users ON users');
      await rebuilt.db.pool.query('DROP FUNCTION touch()');
    }
    await rebuilt.db.pool.query('CREATE TABLE notes (user_id text REFERENCES users (user_id))');
    try {
      await expect(rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures)).rejects.toThrow(/it has a foreign key notes_user_id_fkey/);
    } finally {
      await rebuilt.db.pool.query('DROP TABLE notes');
    }
  });

  it('takes turns with another rebuild of the same schema', async () => {
    const results = await Promise.all([rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures), rebuildProjections(rebuilt.db.pool, rebuilt.store, asOfFixtures)]);
    expect(results.every((result) => result.swapAttempts >= 1)).toBe(true);
    await expectMatchesLog(rebuilt);
  });

  it('at start, rebuilds only when a projection\'s version changed, once however many instances ask', async () => {
    expect(await ensureProjectionsCurrent(rebuilt.db.pool, rebuilt.store, asOfFixtures)).toEqual({ rebuilt: false, replayed: 0 });
    await rebuilt.db.pool.query("UPDATE projection_versions SET version = version - 1 WHERE name = 'sessions'");
    await rebuilt.db.pool.query('DELETE FROM sessions');
    const outcomes = await Promise.all([ensureProjectionsCurrent(rebuilt.db.pool, rebuilt.store, asOfFixtures), ensureProjectionsCurrent(rebuilt.db.pool, rebuilt.store, asOfFixtures)]);
    expect(outcomes.filter((outcome) => outcome.rebuilt)).toHaveLength(1);
    await expectMatchesLog(rebuilt);
  });

  it('leaves out token rows expired at its instant, also from the events it can read only under its lock', async () => {
    const log = await openLog();
    const holder = await log.db.pool.connect();
    try {
      // A transaction that stays open: the events appended after it began are above the log's
      // readable horizon, so the replay without locks misses them all, and the catch-up under the
      // swap's lock applies them.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      await appendAll([log], batches(20));
      // Between the fixtures' expiries: the logins' access tokens (12:30) are past, the refreshed ones (12:40) not.
      const now = new Date('2024-05-01T12:35:00.000Z');
      await pruneExpiredRows(log.db.pool, log.store.projections, { now });
      const pruned = await projectionSnapshot(log.db.pool, log.store);
      expect(pruned['access_tokens']!.length).toBeGreaterThan(0);

      const result = await rebuildProjections(log.db.pool, log.store, { now, onProgress: (phase, done) => phase === 'replay' && expect(done).toBe(0) });
      expect(result.replayed).toBeGreaterThan(0);
      expect(await projectionSnapshot(log.db.pool, log.store)).toEqual(pruned);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await log.db.drop();
    }
  });
});
