import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { RateLimiterUnavailableError, createPostgresIpRateLimiter, type IpRateLimiter } from './ip-rate-limiter.js';
import { createPool } from './pool.js';

/**
 * The per-IP budget on PostgreSQL: two limiters on one schema stand for two instances on one
 * database, each with its own pool.
 */
describe('per-IP rate limiter on PostgreSQL', () => {
  let db: TestSchema;
  let otherPool: ReturnType<typeof createPool>;
  let first: IpRateLimiter;
  let second: IpRateLimiter;

  beforeAll(async () => {
    db = await createTestSchema(inject('testDatabase'));
    otherPool = createPool(db.connectionString, { schema: db.schema, applicationName: db.schema });
    first = await createPostgresIpRateLimiter(db.pool, { limit: 5 });
    second = await createPostgresIpRateLimiter(otherPool, { limit: 5 });
  });
  afterAll(async () => {
    await otherPool?.end();
    await db?.drop();
  });

  it('shares one budget between instances; the refusal that goes over is the first, then memory refuses', async () => {
    const ip = '203.0.113.10';
    for (const limiter of [first, second, first, second, first]) expect(await limiter.consume(ip, 1)).toEqual({ allowed: true });
    expect(await second.consume(ip, 1)).toMatchObject({ allowed: false, firstInWindow: true, count: 6 });
    // The other instance learns it from the table once, then from its memory.
    expect(await first.consume(ip, 1)).toMatchObject({ allowed: false, firstInWindow: false, count: 7 });
    expect(await first.consume(ip, 1)).toMatchObject({ allowed: false, firstInWindow: false, count: null });
    expect(await second.consume(ip, 1)).toMatchObject({ allowed: false, firstInWindow: false, count: null });
    const refused = await first.consume(ip, 1);
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('counts a request of n calls as n, and keeps IPs apart', async () => {
    expect(await first.consume('2001:db8::1', 5)).toEqual({ allowed: true });
    expect(await first.consume('2001:db8::1', 1)).toMatchObject({ allowed: false, firstInWindow: true, count: 6 });
    expect(await first.consume('2001:db8::2', 5)).toEqual({ allowed: true });
    expect(await second.consume('2001:db8::3', 6)).toMatchObject({ allowed: false, firstInWindow: true, count: 6 });
  });

  it('counts 30 concurrent requests of one IP exactly: 5 allowed, one refusal first', async () => {
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? first : second).consume('198.51.100.7', 1)));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    expect(decisions.filter((decision) => !decision.allowed && decision.firstInWindow)).toHaveLength(1);
  });

  it('starts a new budget when the window ends', async () => {
    const shortWindow = await createPostgresIpRateLimiter(db.pool, { limit: 1, windowSeconds: 2 });
    expect(await shortWindow.consume('192.0.2.1', 1)).toEqual({ allowed: true });
    const refused = await shortWindow.consume('192.0.2.1', 1);
    expect(refused.allowed).toBe(false);
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeLessThanOrEqual(2);
    await sleep(2100);
    expect(await shortWindow.consume('192.0.2.1', 1)).toEqual({ allowed: true });
  });

  it('stores a keyed hash of the address, never the address, in an unlogged table', async () => {
    const { rows } = await db.pool.query<{ key: string }>('SELECT key FROM rate_limits');
    expect(rows.length).toBeGreaterThan(0);
    for (const { key } of rows) expect(key).toMatch(/^ip:[0-9a-f]{64}$/);
    const table = await db.pool.query<{ relpersistence: string }>("SELECT relpersistence FROM pg_class WHERE oid = 'rate_limits'::regclass");
    expect(table.rows).toEqual([{ relpersistence: 'u' }]);
  });

  it('reports a count it cannot have as RateLimiterUnavailableError, and recovers', async () => {
    await db.pool.query('ALTER TABLE rate_limits RENAME TO rate_limits_away');
    try {
      await expect(first.consume('192.0.2.99', 1)).rejects.toBeInstanceOf(RateLimiterUnavailableError);
    } finally {
      await db.pool.query('ALTER TABLE rate_limits_away RENAME TO rate_limits');
    }
    expect(await first.consume('192.0.2.99', 1)).toEqual({ allowed: true });
  });

  it('refuses a limit that cannot work', async () => {
    await expect(createPostgresIpRateLimiter(db.pool, { limit: 0 })).rejects.toThrow(TypeError);
  });
});
