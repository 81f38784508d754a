import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request, type Reply } from './http.js';

/**
 * Every response carries the security baseline (helmet, fitted to a JSON API) and
 * `Cache-Control: no-store`: account data, tokens and errors alike, on REST and tRPC.
 */
describe('response headers', () => {
  let server: TestServer;
  const password = 'correct horse battery staple';
  const replies: [string, Reply][] = [];

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    const see = async (label: string, reply: Promise<Reply>) => {
      const seen = await reply;
      replies.push([label, seen]);
      return seen;
    };
    const created = await see('POST /users', request(`${server.url}/users`, json({ user_name: 'headers', password })));
    const tokens = await see(
      'POST /auth/token',
      request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'headers', password }, { authorization: basicAuth(server.client) })),
    );
    const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
    await see('GET /users/me', request(`${server.url}/users/me`, { headers: bearer }));
    await see('GET /users/{id}', request(`${server.url}/users/${created.body.id}`, { headers: bearer }));
    await see('GET /users/me without a token (401)', request(`${server.url}/users/me`));
    await see('tRPC users.me', request(`${server.url}/trpc/users.me`, { headers: bearer }));
    await see('tRPC users.me batched', request(`${server.url}/trpc/users.me,users.me?batch=1`, { headers: bearer }));
    await see('tRPC error', request(`${server.url}/trpc/users.me`));
    await see('404', request(`${server.url}/nowhere`));
    await see('GET /health/ready', request(`${server.url}/health/ready`));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers the requests this test makes as it expects', () => {
    expect(replies.map(([label, reply]) => [label, reply.status])).toEqual([
      ['POST /users', 201],
      ['POST /auth/token', 201],
      ['GET /users/me', 200],
      ['GET /users/{id}', 200],
      ['GET /users/me without a token (401)', 401],
      ['tRPC users.me', 200],
      ['tRPC users.me batched', 200],
      ['tRPC error', 401],
      ['404', 404],
      ['GET /health/ready', 200],
    ]);
  });

  it('sends nosniff, no-store and a CSP that loads nothing on every response', () => {
    for (const [label, reply] of replies) {
      const headers = Object.fromEntries(
        ['x-content-type-options', 'cache-control', 'content-security-policy', 'x-frame-options', 'referrer-policy', 'cross-origin-resource-policy'].map(
          (name) => [name, reply.headers.get(name)],
        ),
      );
      expect({ label, ...headers }).toEqual({
        label,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-origin',
      });
      // HSTS is the TLS terminator's decision; the service does not send it.
      expect(reply.headers.get('strict-transport-security')).toBeNull();
      expect(reply.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('lets caches keep the JWKS, the one public document, for five minutes, with the rest of the baseline', async () => {
    const jwks = await request(`${server.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    expect(jwks.headers.get('x-content-type-options')).toBe('nosniff');
    expect(jwks.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('keeps Pragma: no-cache on the token response', () => {
    const [, tokens] = replies.find(([label]) => label === 'POST /auth/token')!;
    expect(tokens.headers.get('pragma')).toBe('no-cache');
  });
});
