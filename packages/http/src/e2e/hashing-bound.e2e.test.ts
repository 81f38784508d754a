import { setTimeout as sleep } from 'node:timers/promises';
import type { PasswordHasher } from '@pos-auth/domain';
import { createArgon2PasswordHasher, createBoundedPasswordHasher } from '@pos-auth/infrastructure';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

/**
 * Password hashing within its bound, over real HTTP: with one operation running and one waiting,
 * the next request that needs argon2 is refused at once with 503 and `Retry-After` (never a 500),
 * on every transport, and a login refused so counts as no failure.
 */
describe('bounded password hashing under load', () => {
  let server: TestServer;
  const logs: Array<Record<string, unknown>> = [];
  const password = 'correct horse battery staple';
  /** While closed, every argon2 operation waits for the gate (the real one runs after it). */
  let gate: Promise<void> | null = null;
  let openGate = () => {};
  /** Operations that reached the bounded hasher: running or waiting there. */
  let admitted = 0;

  beforeAll(async () => {
    const argon2 = await createArgon2PasswordHasher();
    const held: PasswordHasher = {
      hash: async (plain) => {
        await gate;
        return argon2.hash(plain);
      },
      verify: async (hash, plain) => {
        await gate;
        return argon2.verify(hash, plain);
      },
      dummyHash: argon2.dummyHash,
    };
    const bounded = createBoundedPasswordHasher(held, { concurrency: 1, queueLimit: 1 });
    const counted: PasswordHasher = {
      hash: (plain) => {
        admitted += 1;
        return bounded.hash(plain);
      },
      verify: (hash, plain) => {
        admitted += 1;
        return bounded.verify(hash, plain);
      },
      dummyHash: bounded.dummyHash,
    };
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    server = await startTestServer(inject('testDatabase'), { passwordHasher: counted, logger });
    expect((await request(`${server.url}/users`, json({ user_name: 'queued', password }))).status).toBe(201);
  });
  afterAll(async () => {
    openGate();
    await server?.close();
  });

  const login = (userName: string, attempt = password) =>
    request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password: attempt }, { authorization: basicAuth(server.client) }));

  it('answers 503 with Retry-After while one operation runs and one waits, then serves again', async () => {
    gate = new Promise((resolve) => (openGate = resolve));
    const before = admitted;
    // Two names: logins for one name take turns before they reach the hasher.
    const holding = [login('queued'), login('nobody-queued', 'a wrong password')];
    // Both are in: one running (held at the gate), one waiting its turn.
    for (let i = 0; i < 500 && admitted < before + 2; i += 1) await sleep(10);
    expect(admitted).toBe(before + 2);

    const token = await login('nobody-refused');
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Try again shortly.' });

    const signUp = await request(`${server.url}/users`, json({ user_name: 'refused-sign-up', password }));
    expect(signUp.status).toBe(503);
    expect(signUp.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(signUp.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(signUp.body).toMatchObject({ status: 503, title: 'Service Unavailable' });

    const trpc = await request(`${server.url}/trpc/auth.token`, json({ grantType: 'password', userName: 'nobody', password: 'a wrong password' }, { authorization: basicAuth(server.client) }));
    expect(trpc.status).toBe(503);
    expect(trpc.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(trpc.body.error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 });
    expect(trpc.body.error.message).toBe('The service is temporarily unavailable. Try again shortly.');

    openGate();
    gate = null;
    expect((await Promise.all(holding)).map((reply) => reply.status)).toEqual([201, 400]);
    expect((await login('queued')).status).toBe(201);
    expect(logs.filter((log) => log['msg'] === 'password hashing saturated' && log['level'] === 40)).toHaveLength(3);
  });

  it('counts a login refused for want of a turn as no failure', async () => {
    const { rows } = await server.pool.query<{ type: string; n: number }>(
      "SELECT type, count(*)::int AS n FROM events WHERE type IN ('LoginFailed', 'TokenIssued') GROUP BY type ORDER BY type",
    );
    // The one unknown name that waited its turn failed; the refused attempts wrote nothing.
    expect(rows).toEqual([
      { type: 'LoginFailed', n: 1 },
      { type: 'TokenIssued', n: 2 },
    ]);
  });
});
