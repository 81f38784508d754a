import { registerClient } from '@pos-auth/domain';
import { startEmbeddedPostgres } from '@pos-auth/infrastructure';
import type { TestDatabaseRef } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { form, json, request, type Reply } from './http.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Every response body a test saw, to check that none carries a password or a hash. */
const seen: string[] = [];
const remember = (reply: Reply) => {
  seen.push(reply.text);
  return reply;
};

const expectTokenResponse = (reply: Reply, status: number) => {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('pragma')).toBe('no-cache');
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(reply.body).sort()).toEqual(['access_token', 'expires_at', 'expires_in', 'refresh_token', 'token_type']);
  expect(reply.body.access_token).toMatch(uuid);
  expect(reply.body.token_type).toBe('Bearer');
  expect(reply.body.expires_in).toBe(1800);
  expect(reply.body.expires_at).toMatch(isoUtc);
  const lifetime = (Date.parse(reply.body.expires_at) - Date.now()) / 1000;
  expect(lifetime).toBeGreaterThan(1790);
  expect(lifetime).toBeLessThanOrEqual(1800);
  expect(Buffer.from(reply.body.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32);
};

const databases: [string, () => Promise<{ database: TestDatabaseRef; stop(): Promise<void> }>][] = [
  ['the test database', async () => ({ database: inject('testDatabase'), stop: async () => undefined })],
  [
    'the embedded PostgreSQL',
    async () => {
      const embedded = await startEmbeddedPostgres({ dataDir: null });
      return { database: { url: embedded.connectionString }, stop: embedded.stop };
    },
  ],
];

describe.each(databases)('the seed flow over HTTP on %s', (_, open) => {
  let server: TestServer;
  let stopDatabase: () => Promise<void>;
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    const { database, stop } = await open();
    stopDatabase = stop;
    server = await startTestServer(database);
  });
  afterAll(async () => {
    await server?.close();
    await stopDatabase?.();
  });

  const login = async (userName: string, secret = password) =>
    remember(
      await request(
        `${server.url}/auth/token`,
        json({ grant_type: 'password', user_name: userName, password: secret }, { authorization: basicAuth(server.client) }),
      ),
    );

  it('step 1: POST /users creates the account: 201, Location, the resource; the first one is admin', async () => {
    const reply = remember(
      await request(`${server.url}/users`, json({ user_name: 'Alice', password, grant_type: 'password', email: 'alice@example.com' })),
    );
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: expect.stringMatching(uuid),
      user_name: 'Alice',
      email: 'alice@example.com',
      name: null,
      role: 'admin',
      disabled: false,
      created_at: expect.stringMatching(isoUtc),
      updated_at: reply.body.created_at,
    });
    expect(reply.headers.get('location')).toBe(`/users/${reply.body.id}`);

    const second = remember(await request(`${server.url}/users`, json({ user_name: 'bob', password, name: 'Bob', role: 'patron' })));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ user_name: 'bob', role: 'patron', name: 'Bob', email: null });
  });

  it('refuses a taken user name (case-insensitively, after NFKC) and a taken email with 409 problem details', async () => {
    const name = remember(await request(`${server.url}/users`, json({ user_name: 'ＡＬＩＣＥ', password })));
    expect(name.status).toBe(409);
    expect(name.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(name.body).toMatchObject({ status: 409, code: 'USER_NAME_TAKEN', title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
    const email = remember(await request(`${server.url}/users`, json({ user_name: 'alice2', password, email: 'ALICE@example.com' })));
    expect(email.status).toBe(409);
    expect(email.body.code).toBe('EMAIL_TAKEN');
  });

  it('answers 400 problem details listing every invalid field, and 403 for a role above patron', async () => {
    const invalid = remember(await request(`${server.url}/users`, json({ user_name: 'a b', password: 'short', grant_type: 'client_credentials' })));
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['grant_type']);
    const policy = remember(await request(`${server.url}/users`, json({ user_name: 'a b', password: 'short' })));
    expect(policy.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['password', 'user_name']);
    const elevated = remember(await request(`${server.url}/users`, json({ user_name: 'carol', password, role: 'manager' })));
    expect(elevated.status).toBe(403);
    expect(elevated.body.code).toBe('ROLE_ELEVATION_FORBIDDEN');
  });

  it('lets an admin Bearer token create any role, and refuses a bad Basic or Bearer header with 401', async () => {
    const admin = await login('alice');
    const manager = remember(
      await request(`${server.url}/users`, json({ user_name: 'maria', password, role: 'manager' }, { authorization: `Bearer ${admin.body.access_token}` })),
    );
    expect(manager.status).toBe(201);
    expect(manager.body.role).toBe('manager');

    const patron = await login('bob');
    const denied = await request(`${server.url}/users`, json({ user_name: 'mallory', password, role: 'admin' }, { authorization: `Bearer ${patron.body.access_token}` }));
    expect(denied.status).toBe(403);

    const badBearer = await request(`${server.url}/users`, json({ user_name: 'dave', password }, { authorization: 'Bearer not-a-token' }));
    expect(badBearer.status).toBe(401);
    expect(badBearer.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth", error="invalid_token"');
    const badBasic = await request(`${server.url}/users`, json({ user_name: 'dave', password }, { authorization: basicAuth({ clientId: 'admin-panel', clientSecret: 'nope' }) }));
    expect(badBasic.status).toBe(401);
    expect(badBasic.headers.get('www-authenticate')).toBe('Basic realm="pos-auth"');
  });

  it('step 2: POST /auth/token logs in: 201 with the documented body and no-store', async () => {
    expectTokenResponse(await login('alice'), 201);
    expectTokenResponse(await login('ALICE'), 201); // user names compare case-insensitively
  });

  it('answers the same invalid_grant, status and body for an unknown user and a wrong password', async () => {
    const unknown = await login('nobody-here', password);
    const wrong = await login('alice', 'wrong password!');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: 'invalid_grant', error_description: 'The user name or password is incorrect.' });
    expect(wrong.status).toBe(unknown.status);
    expect(wrong.text).toBe(unknown.text);
  });

  it('refuses missing or wrong client credentials with 401 invalid_client and a Basic challenge', async () => {
    const cases: [string, Record<string, string>][] = [
      ['none', {}],
      ['wrong secret', { authorization: basicAuth({ clientId: 'admin-panel', clientSecret: 'wrong' }) }],
      ['unknown client', { authorization: basicAuth({ clientId: 'who', clientSecret: 'admin-panel-secret' }) }],
      ['not base64 of id:secret', { authorization: 'Basic bm9jb2xvbg==' }],
    ];
    for (const [, headers] of cases) {
      const reply = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'alice', password }, headers));
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="pos-auth"');
    }
  });

  it('answers invalid_request for a missing field and unsupported_grant_type for an unknown grant', async () => {
    const auth = { authorization: basicAuth(server.client) };
    const missing = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'alice' }, auth));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const noGrant = await request(`${server.url}/auth/token`, json({ user_name: 'alice', password }, auth));
    expect(noGrant.body.error).toBe('invalid_request');
    const unknownGrant = await request(`${server.url}/auth/token`, json({ grant_type: 'client_credentials' }, auth));
    expect(unknownGrant.status).toBe(400);
    expect(unknownGrant.body.error).toBe('unsupported_grant_type');
  });

  it('step 3: POST /auth/refresh-token with the token in the Authorization header rotates it', async () => {
    const first = await login('alice');
    const refresh = (token: string) => request(`${server.url}/auth/refresh-token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const refreshed = remember(await refresh(first.body.refresh_token));
    expectTokenResponse(refreshed, 201);
    expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);

    // A replay of the parent inside the grace window (a lost response): the same child.
    const replayed = await refresh(first.body.refresh_token);
    expect(replayed.status).toBe(201);
    expect({ ...replayed.body, expires_in: 0 }).toEqual({ ...refreshed.body, expires_in: 0 });

    // Once the child has rotated, the parent is reuse: refused, and the whole session ends.
    const grandchild = await refresh(refreshed.body.refresh_token);
    expect(grandchild.status).toBe(201);
    const reused = await refresh(first.body.refresh_token);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    expect(reused.headers.get('cache-control')).toBe('no-store');
    expect((await refresh(grandchild.body.refresh_token)).status).toBe(400);
    const me = await request(`${server.url}/users/me`, { headers: { authorization: `Bearer ${grandchild.body.access_token}` } });
    expect(me.status).toBe(401);
  });

  it('refreshes with the token in a JSON body, and with an empty JSON body when the header carries it', async () => {
    const first = await login('alice');
    const byBody = remember(await request(`${server.url}/auth/refresh-token`, json({ refresh_token: first.body.refresh_token })));
    expectTokenResponse(byBody, 201);
    const byHeaderEmptyBody = await request(`${server.url}/auth/refresh-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byBody.body.refresh_token}`, 'content-type': 'application/json' },
      body: '',
    });
    expectTokenResponse(byHeaderEmptyBody, 201);
  });

  it('refuses a refresh without a token, with two different tokens, or with an unknown one', async () => {
    const none = await request(`${server.url}/auth/refresh-token`, { method: 'POST' });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_request');
    const a = await login('alice');
    const b = await login('alice');
    const both = await request(
      `${server.url}/auth/refresh-token`,
      json({ refresh_token: a.body.refresh_token }, { authorization: `Bearer ${b.body.refresh_token}` }),
    );
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
    const unknown = await request(`${server.url}/auth/refresh-token`, json({ refresh_token: 'x'.repeat(43) }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
  });

  it('GET /users/me returns the caller; no token or a bad one is 401 with a Bearer challenge', async () => {
    const tokens = await login('bob');
    const me = remember(await request(`${server.url}/users/me`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } }));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_name: 'bob', role: 'patron', name: 'Bob' });
    const byLocation = await request(`${server.url}/users/${me.body.id}`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
    expect(byLocation.body).toEqual(me.body);

    const none = await request(`${server.url}/users/me`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth"');
    expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({ status: 401, code: 'AUTHENTICATION_REQUIRED' });
    const bad = await request(`${server.url}/users/me`, { headers: { authorization: 'Bearer 00000000-0000-4000-8000-000000000000' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth", error="invalid_token"');
  });

  it('accepts RFC 6749 form bodies on /auth/token, and /oauth/token answers 200', async () => {
    const auth = { authorization: basicAuth(server.client) };
    expectTokenResponse(remember(await request(`${server.url}/auth/token`, form({ grant_type: 'password', username: 'alice', password }, auth))), 201);
    const standard = remember(await request(`${server.url}/oauth/token`, form({ grant_type: 'password', username: 'alice', password }, auth)));
    expectTokenResponse(standard, 200);
    const refreshed = await request(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: standard.body.refresh_token }, auth));
    expectTokenResponse(refreshed, 200);
    const twice = await request(
      `${server.url}/oauth/token`,
      form([['grant_type', 'password'], ['username', 'alice'], ['password', password], ['password', password]], auth),
    );
    expect(twice.status).toBe(400);
    expect(twice.body.error).toBe('invalid_request');
  });

  it('binds a refresh token to its client on the token endpoint', async () => {
    const other = { clientId: 'pos terminal:7', clientSecret: 'p@ss:word with spaces&more' };
    await registerClient(server.deps, other, { requestId: 'test' });
    const tokens = await login('alice');
    const stolen = await request(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, { authorization: basicAuth(other) }));
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    // client_secret_basic with an id and secret that need form-urlencoding (space, colon, @, &)
    const own = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'alice', password }, { authorization: basicAuth(other) }));
    expectTokenResponse(own, 201);
  });

  it('answers the framework errors as JSON: 404, 405, 413, 415 and unparsable JSON', async () => {
    const notFound = await request(`${server.url}/nowhere`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(notFound.body).toMatchObject({ status: 404, title: 'Not Found' });

    const wrongMethod = await request(`${server.url}/users`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    expect(wrongMethod.body).toMatchObject({ status: 405 });

    const tooLarge = await request(`${server.url}/users`, json({ user_name: 'big', password: 'x'.repeat(64 * 1024) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ status: 413 });

    const unsupported = await request(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(unsupported.status).toBe(415);
    expect(unsupported.body).toMatchObject({ status: 415 });

    const badJson = await request(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_name":' });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ status: 400 });

    const badJsonOnToken = await request(`${server.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(badJsonOnToken.status).toBe(400);
    expect(badJsonOnToken.body.error).toBe('invalid_request');
    const wrongMethodOnToken = await request(`${server.url}/auth/token`);
    expect(wrongMethodOnToken.status).toBe(405);
    expect(wrongMethodOnToken.body.error).toBe('invalid_request');
  });

  it('answers CORS preflights for the configured origins only, with credentials', async () => {
    const preflight = (origin: string) =>
      request(`${server.url}/auth/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight('http://admin.example.test');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://admin.example.test');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('http://evil.example.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the health probes', async () => {
    expect((await request(`${server.url}/health/live`)).status).toBe(200);
    expect((await request(`${server.url}/health/ready`)).body).toEqual({ status: 'ready' });
  });

  it('never showed a password or a password hash in any response', () => {
    expect(seen.length).toBeGreaterThan(10);
    for (const text of seen) {
      expect(text).not.toContain(password);
      expect(text).not.toContain('$argon2');
    }
  });
});
