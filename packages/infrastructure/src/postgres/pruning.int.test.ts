import { sessionStreamId, type TokenIssued } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { metadata, newSessionId, newUserId, sessionRevoked, tokenIssued, tokenRefreshed } from '../testing/fixtures.js';
import { createPosAuthPersistence } from '../persistence.js';
import { createPool } from './pool.js';
import type { PostgresEventStore } from './event-store.js';
import { posAuthProjections } from './projections.js';
import { pruneExpiredRows, startPruningJob } from './pruning.js';

let db: TestSchema;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'));
  store = (await createPosAuthPersistence(db.pool)).eventStore;
});

afterAll(() => db?.drop());

const digests = async (table: 'access_tokens' | 'refresh_tokens'): Promise<string[]> =>
  (await db.pool.query<{ digest: string }>(`SELECT digest FROM ${table} ORDER BY digest`)).rows.map((row) => row.digest);

const counts = async () =>
  (
    await db.pool.query<{ events: number; sessions: number; streams: number }>(
      'SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM sessions) AS sessions, (SELECT count(*)::int FROM streams) AS streams',
    )
  ).rows[0];

const issuedWith = (expiries: { readonly access: string; readonly refresh: string }): TokenIssued => {
  const event = tokenIssued(newSessionId(), newUserId());
  return { ...event, data: { ...event.data, accessTokenExpiresAt: expiries.access, refreshTokenExpiresAt: expiries.refresh } };
};

const append = (...events: Parameters<PostgresEventStore['appendToStream']>[1]) =>
  store.appendToStream(sessionStreamId((events[0]!.data as { sessionId: TokenIssued['data']['sessionId'] }).sessionId), events, {
    expectedVersion: 'no_stream',
    metadata: metadata(),
  });

describe('pruneExpiredRows', () => {
  it('deletes the token rows past their expiry, and nothing else', async () => {
    const now = new Date('2024-05-01T13:00:00.000Z');
    // A: both access tokens expired (12:30, 12:40); both refresh tokens live, the rotated one too
    // (until its own expiry, presenting it is reuse).
    const a = tokenIssued(newSessionId(), newUserId());
    const aRefreshed = tokenRefreshed(a);
    await append(a, aRefreshed);
    // B: its access token lives, its refresh token expired a millisecond ago.
    const b = issuedWith({ access: '2024-05-01T13:30:00.000Z', refresh: '2024-05-01T12:59:59.999Z' });
    await append(b);
    // C: its access token expires at the very instant: a token is refused from then on.
    const c = issuedWith({ access: '2024-05-01T13:00:00.000Z', refresh: '2024-05-15T00:00:00.000Z' });
    await append(c);
    // D: revoked, but nothing of it expired: revocation is the sessions row's business, not pruning's.
    const d = issuedWith({ access: '2024-05-01T14:00:00.000Z', refresh: '2024-05-15T00:00:00.000Z' });
    await append(d, sessionRevoked(d.data.sessionId, d.data.userId));
    const before = await counts();

    const deleted = await pruneExpiredRows(db.pool, posAuthProjections, { now, batchSize: 2 });

    expect(deleted).toEqual({ refresh_tokens: 1, access_tokens: 3 });
    expect(await digests('access_tokens')).toEqual([b.data.accessTokenDigest, d.data.accessTokenDigest].sort());
    expect(await digests('refresh_tokens')).toEqual(
      [a.data.refreshTokenDigest, aRefreshed.data.refreshTokenDigest, c.data.refreshTokenDigest, d.data.refreshTokenDigest].sort(),
    );
    expect(await counts()).toEqual(before);
    expect(await pruneExpiredRows(db.pool, posAuthProjections, { now })).toEqual({ refresh_tokens: 0, access_tokens: 0 });
  });

  it('lets several instances prune at once: every expired row is deleted exactly once, the live ones stay', async () => {
    await db.pool.query('TRUNCATE access_tokens');
    await db.pool.query(
      `INSERT INTO access_tokens (digest, session_id, user_id, client_id, issued_at, expires_at)
       SELECT md5(i::text), 's', 'u', 'c', now(), CASE WHEN i <= 5000 THEN now() - interval '1 day' ELSE now() + interval '1 day' END
       FROM generate_series(1, 5500) AS i`,
    );
    // Four instances, each with its own pool, as separate processes would have.
    const pools = Array.from({ length: 4 }, () => createPool(db.connectionString, { schema: db.schema, max: 2 }));
    try {
      const runs = await Promise.all(pools.map((pool) => pruneExpiredRows(pool, posAuthProjections, { now: new Date(), batchSize: 100 })));
      expect(runs.reduce((total, run) => total + (run['access_tokens'] ?? 0), 0)).toBe(5000);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const { rows } = await db.pool.query<{ live: number; expired: number }>(
      'SELECT count(*) FILTER (WHERE expires_at > now())::int AS live, count(*) FILTER (WHERE expires_at <= now())::int AS expired FROM access_tokens',
    );
    expect(rows[0]).toEqual({ live: 500, expired: 0 });
  });
});

describe('startPruningJob', () => {
  const expiredRows = async (n: number) =>
    db.pool.query(
      `INSERT INTO access_tokens (digest, session_id, user_id, client_id, issued_at, expires_at)
       SELECT md5(random()::text), 's', 'u', 'c', now(), now() - interval '1 second' FROM generate_series(1, $1::int)`,
      [n],
    );
  const expiredLeft = async () => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens WHERE expires_at <= now()')).rows[0]!.n;

  it('prunes at once, then again after each interval, reports what it deleted, and stops', async () => {
    await db.pool.query('TRUNCATE access_tokens, refresh_tokens');
    await expiredRows(3);
    const pruned: Record<string, number>[] = [];
    const errors: unknown[] = [];
    const job = startPruningJob(db.pool, posAuthProjections, {
      clock: { now: () => new Date() },
      intervalMs: 50,
      onPruned: (deleted) => pruned.push(deleted),
      onError: (error) => errors.push(error),
    });
    try {
      await vi.waitFor(() => expect(pruned).toEqual([{ refresh_tokens: 0, access_tokens: 3 }]));
      await expiredRows(2);
      await vi.waitFor(() => expect(pruned.at(-1)).toEqual({ refresh_tokens: 0, access_tokens: 2 }));
    } finally {
      await job.stop();
    }
    await expiredRows(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await expiredLeft()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('reports a failed run and goes on', async () => {
    const errors: unknown[] = [];
    const broken = createPool(db.connectionString, { schema: `${db.schema}_missing` });
    const job = startPruningJob(broken, posAuthProjections, { clock: { now: () => new Date() }, intervalMs: 20, onError: (error) => errors.push(error) });
    try {
      await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2));
    } finally {
      await job.stop();
      await broken.end();
    }
    expect(errors[0]).toMatchObject({ code: '42P01' });
  });
});
