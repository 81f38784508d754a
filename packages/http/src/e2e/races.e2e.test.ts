import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

/**
 * Real clients racing over real HTTP against a real database: the counts are exact, whatever the
 * interleaving. On PostgreSQL the server's pool holds 20 connections, so the transactions overlap.
 */
describe('races over HTTP', () => {
  let server: TestServer;
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { poolMax: 20 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const statuses = (replies: { status: number }[]) =>
    replies.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

  it('several first sign-ups of an empty system: exactly one becomes admin', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => request(`${server.url}/users`, json({ user_name: `founder-${i}`, password }))),
    );
    expect(statuses(replies)).toEqual({ 201: 10 });
    expect(replies.filter((reply) => reply.body.role === 'admin')).toHaveLength(1);
    expect(replies.filter((reply) => reply.body.role === 'patron')).toHaveLength(9);
  });

  it('30 registrations of one user name: exactly one 201 and 29 409', async () => {
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        // The same name under different case and width: one claim after normalization.
        request(`${server.url}/users`, json({ user_name: i % 2 === 0 ? 'racer' : 'ＲＡＣＥＲ', password })),
      ),
    );
    expect(statuses(replies)).toEqual({ 201: 1, 409: 29 });
    for (const reply of replies.filter((r) => r.status === 409)) expect(reply.body.code).toBe('USER_NAME_TAKEN');
  });

  it('30 refreshes with one refresh token: one child, every answer the same pair, one rotation in the log', async () => {
    await request(`${server.url}/users`, json({ user_name: 'refresher', password }));
    const login = await request(
      `${server.url}/auth/token`,
      json({ grant_type: 'password', user_name: 'refresher', password }, { authorization: basicAuth(server.client) }),
    );
    expect(login.status).toBe(201);
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        request(`${server.url}/auth/refresh-token`, { method: 'POST', headers: { authorization: `Bearer ${login.body.refresh_token}` } }),
      ),
    );
    expect(statuses(replies)).toEqual({ 201: 30 });
    expect(new Set(replies.map((reply) => reply.body.refresh_token)).size).toBe(1);
    expect(new Set(replies.map((reply) => reply.body.access_token)).size).toBe(1);
    expect(new Set(replies.map((reply) => reply.body.expires_at)).size).toBe(1);
    const { rows } = await server.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE type = 'TokenRefreshed' AND data->>'previousRefreshTokenDigest' = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
      [login.body.refresh_token],
    );
    expect(rows[0]?.n).toBe(1);

    // The child is the session's live refresh token.
    const next = await request(`${server.url}/auth/refresh-token`, json({ refresh_token: replies[0]!.body.refresh_token }));
    expect(next.status).toBe(201);
  });
});
