import type { PasswordHasher } from '@pos-auth/domain';
import { createArgon2PasswordHasher } from '@pos-auth/infrastructure';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request, type Reply } from './http.js';

const limit = 12;
const password = 'correct horse battery staple';

/**
 * The per-IP limit (API.md "Abuse limits") over real HTTP, with a budget of 12 requests a minute
 * and `TRUST_PROXY=loopback`: each test speaks from its own forwarded address, so each has a fresh
 * budget, as two clients behind a proxy do.
 */
describe('per-IP limit', () => {
  let server: TestServer;
  let verifies = 0;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const argon2 = await createArgon2PasswordHasher();
    const counting: PasswordHasher = {
      hash: (plain) => argon2.hash(plain),
      verify: (hash, plain) => {
        verifies += 1;
        return argon2.verify(hash, plain);
      },
      dummyHash: argon2.dummyHash,
    };
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    server = await startTestServer(inject('testDatabase'), { ipLimitPerMinute: limit, trustProxy: 'loopback', passwordHasher: counting, logger });
  });
  afterAll(async () => {
    await server?.close();
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  /** A wrong password for a name of its own, so that no per-name back-off cuts in. */
  const wrongLogin = (ip: string, i: number) =>
    request(
      `${server.url}/auth/token`,
      json({ grant_type: 'password', user_name: `guess-${ip}-${i}`, password: 'a wrong password' }, { authorization: basicAuth(server.client), ...from(ip) }),
    );
  const spend = async (ip: string, requests: number) => {
    const replies: Reply[] = [];
    for (let i = 0; i < requests; i += 1) replies.push(await wrongLogin(ip, i));
    return replies;
  };
  const statuses = (replies: Reply[]) => replies.map((reply) => reply.status);
  const wholeSeconds = /^[1-9]\d*$/;

  it('answers a token endpoint 429 slow_down with Retry-After beyond the budget, without a password check', async () => {
    expect(statuses(await spend('203.0.113.1', limit))).toEqual(Array(limit).fill(400));
    const before = verifies;
    const refused = await wrongLogin('203.0.113.1', limit);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(wholeSeconds);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.body).toEqual({ error: 'slow_down', error_description: 'Too many requests from this address. Try again later.' });
    const oauth = await request(`${server.url}/oauth/token`, { method: 'POST', headers: from('203.0.113.1') });
    expect(oauth.status).toBe(429);
    expect(oauth.body.error).toBe('slow_down');
    expect(verifies).toBe(before);
  });

  it('keeps two forwarded IPs apart: each has its own budget', async () => {
    expect(statuses(await spend('203.0.113.2', limit + 1))).toEqual([...Array(limit).fill(400), 429]);
    expect((await wrongLogin('203.0.113.3', 0)).status).toBe(400);
    expect((await wrongLogin('2001:db8::3', 0)).status).toBe(400);
  });

  it('answers POST /users with problem details beyond the budget', async () => {
    const ip = '203.0.113.4';
    for (let i = 0; i < limit; i += 1) {
      expect((await request(`${server.url}/users`, json({ user_name: `signup-${i}`, password }, from(ip)))).status).toBe(201);
    }
    const refused = await request(`${server.url}/users`, json({ user_name: 'one-too-many', password }, from(ip)));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(wholeSeconds);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toEqual({
      type: 'urn:pos-auth:problem:rate-limited',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Too many requests from this address. Try again later.',
      code: 'RATE_LIMITED',
    });
  });

  it('leaves the health probes, reads and tRPC queries unlimited', async () => {
    const ip = '203.0.113.5';
    expect((await spend(ip, limit + 1)).at(-1)?.status).toBe(429);
    for (const path of ['/health/live', '/health/ready']) expect((await request(`${server.url}${path}`, { headers: from(ip) })).status).toBe(200);
    expect((await request(`${server.url}/users/me`, { headers: from(ip) })).status).toBe(401);
    expect((await request(`${server.url}/trpc/users.me`, { headers: from(ip) })).status).toBe(401);
  });

  const trpcLogins = (ip: string, calls: number) => {
    const paths = Array.from({ length: calls }, () => 'auth.token').join(',');
    const inputs = Object.fromEntries(
      Array.from({ length: calls }, (_, i) => [i, { grantType: 'password', userName: `trpc-${ip}-${calls}-${i}`, password: 'a wrong password' }]),
    );
    return request(`${server.url}/trpc/${paths}?batch=1`, json(inputs, { authorization: basicAuth(server.client), ...from(ip) }));
  };

  it('counts each call of a tRPC batch: a 10-call batch is 10, so a 3-call batch then goes over 12', async () => {
    const ip = '203.0.113.6';
    const ten = await trpcLogins(ip, 10);
    expect(ten.body.map((item: { error: { data: { httpStatus: number } } }) => item.error.data.httpStatus)).toEqual(Array(10).fill(400));
    const before = verifies;
    const three = await trpcLogins(ip, 3);
    expect(three.status).toBe(429);
    expect(three.headers.get('retry-after')).toMatch(wholeSeconds);
    expect(three.headers.get('content-type')).toMatch(/^application\/json/);
    expect(three.body).toHaveLength(3);
    for (const item of three.body) {
      expect(item.error).toMatchObject({ message: 'Too many requests from this address. Try again later.', data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } });
    }
    expect(verifies).toBe(before);
    // The 3-call batch went over with 13: a 2-call batch after 10 is still within the budget.
    const other = '203.0.113.7';
    await trpcLogins(other, 10);
    const two = await trpcLogins(other, 2);
    expect(two.body.map((item: { error: { data: { httpStatus: number } } }) => item.error.data.httpStatus)).toEqual([400, 400]);
  });

  it('logs the refusal that went over the budget once at info, with the IP and the count', async () => {
    const ip = '203.0.113.8';
    await spend(ip, limit + 4);
    const reached = logs.filter((log) => log['ip'] === ip && log['level'] === 30);
    expect(reached).toEqual([
      expect.objectContaining({ msg: 'per-IP limit reached: this address is refused until its window ends', ip, count: limit + 1, limit }),
    ]);
  });

  it('answers 503 with Retry-After, not 500, when the count cannot be had', async () => {
    await server.pool.query('ALTER TABLE rate_limits RENAME TO rate_limits_away');
    let reply: Reply;
    try {
      reply = await wrongLogin('203.0.113.9', 0);
    } finally {
      await server.pool.query('ALTER TABLE rate_limits_away RENAME TO rate_limits');
    }
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toMatch(wholeSeconds);
    expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Try again shortly.' });
    expect(logs.some((log) => log['msg'] === 'per-IP rate limiter unavailable' && log['level'] === 40)).toBe(true);
    expect((await wrongLogin('203.0.113.9', 1)).status).toBe(400);
  });
});

describe('per-IP limit without TRUST_PROXY', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { ipLimitPerMinute: 2 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ignores X-Forwarded-For: every request from this machine shares one budget', async () => {
    const replies: number[] = [];
    for (const ip of ['203.0.113.20', '203.0.113.21', '203.0.113.22']) {
      replies.push((await request(`${server.url}/users`, json({ user_name: `direct-${ip}`, password }, { 'x-forwarded-for': ip }))).status);
    }
    expect(replies).toEqual([201, 201, 429]);
  });
});
