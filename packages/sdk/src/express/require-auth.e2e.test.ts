import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SessionId, revokeSession } from '@pos-auth/domain';
import { loadConfig, rotateKeysCommand } from '@pos-auth/http';
import {
  basicAuth,
  startCountingProxy,
  startTestServer,
  testClient,
  type CountingProxy,
  type TestServer,
} from '@pos-auth/http/testing';
import express from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessTokenRefusal, requireAuth, type RequireAuthOptions } from '../express.js';

/**
 * Resource servers of the POS API (express apps using `requireAuth`) in front of a real pos-auth
 * (real HTTP, real PostgreSQL) that they reach only through a proxy counting every request, so a
 * test can say how many reached it. pos-auth's public ISSUER is the proxy's URL, as behind a
 * reverse proxy in production.
 */
const password = 'correct horse battery staple';
const ordersService = { clientId: 'orders-service', clientSecret: 'orders-service-secret' };
const context = { requestId: 'require-auth-e2e' };

/** The wall clock, which a test may move forward; pos-auth and the resource servers read it. */
const movableClock = () => {
  let offsetMs = 0;
  return { now: () => new Date(Date.now() + offsetMs), advance: (seconds: number) => void (offsetMs += seconds * 1000) };
};

interface ResourceServer {
  readonly url: string;
  readonly refusals: AccessTokenRefusal[];
  get(token?: string, authorization?: string): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/** An express app with one route behind `requireAuth`, answering the principal it was given. */
const startResourceServer = async (options: RequireAuthOptions): Promise<ResourceServer> => {
  const refusals: AccessTokenRefusal[] = [];
  const app = express();
  app.get('/tickets', requireAuth({ ...options, onRefusal: (refusal) => refusals.push(refusal) }), (req, res) => {
    res.json(req.auth);
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    refusals,
    async get(token, authorization) {
      const header = authorization ?? (token === undefined ? undefined : `Bearer ${token}`);
      const response = await fetch(`${url}/tickets`, { headers: header === undefined ? {} : { authorization: header } });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** pos-auth behind a counting proxy, which is its issuer: resource servers discover and introspect through it. */
const startPosAuth = async (settings: NonNullable<Parameters<typeof startTestServer>[1]>, clock: ReturnType<typeof movableClock>) => {
  const proxy = await startCountingProxy();
  const server = await startTestServer(inject('testDatabase'), { ...settings, accessTokens: { issuer: proxy.url }, clock, clients: [testClient, ordersService] });
  proxy.route({ fallback: server.url, paths: {} });
  await fetch(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_name: 'boss', password }) });
  await fetch(`${server.url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_name: 'cook', password }) });
  /** Logs in directly (not through the proxy: only resource servers' requests are counted). */
  const login = async (userName: string) => {
    const response = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(testClient) },
      body: JSON.stringify({ grant_type: 'password', user_name: userName, password }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  return { proxy, server, login };
};

const reached = (proxy: CountingProxy, request: string) => proxy.requests.filter((made) => made === request).length;

describe('requireAuth with JWT access tokens (ACCESS_TOKEN_FORMAT=jwt)', () => {
  const clock = movableClock();
  let proxy: CountingProxy;
  let server: TestServer;
  let login: (userName: string) => Promise<string>;
  const resourceServers: ResourceServer[] = [];
  const resourceServer = async (options: Partial<RequireAuthOptions> = {}) => {
    const started = await startResourceServer({ issuer: proxy.url, now: () => clock.now().getTime(), jwksCooldownSeconds: 0, ...options } as RequireAuthOptions);
    resourceServers.push(started);
    return started;
  };

  beforeAll(async () => {
    ({ proxy, server, login } = await startPosAuth({ settings: { accessTokenFormat: 'jwt', accessTokenTtlSeconds: 300 } }, clock));
  });
  afterAll(async () => {
    await Promise.all(resourceServers.map((started) => started.close()));
    await proxy?.close();
    await server?.close();
  });

  it('(a) accepts fresh tokens without calling pos-auth once it has its JWKS, and sets req.auth', async () => {
    const tickets = await resourceServer();
    const before = proxy.requests.length;
    const first = await login('cook');
    const answer = await tickets.get(first);
    expect(answer.status).toBe(200);
    const claims = decodeJwt(first);
    expect(answer.body).toEqual({
      userId: claims.sub,
      role: 'patron',
      sessionId: claims['sid'],
      clientId: testClient.clientId,
      scope: null,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
      verifiedBy: 'jwt',
    });
    expect(proxy.requests.slice(before)).toEqual(['GET /.well-known/oauth-authorization-server', 'GET /.well-known/jwks.json']);

    const afterJwks = proxy.requests.length;
    for (let i = 0; i < 10; i += 1) expect((await tickets.get(await login(i % 2 === 0 ? 'cook' : 'boss'))).status).toBe(200);
    expect(proxy.requests.length - afterJwks).toBe(0);
  });

  it('(b) refuses an expired token, at its exp, with RFC 6750 invalid_token, and without asking pos-auth', async () => {
    const token = await login('cook');
    const exp = decodeJwt(token).exp! * 1000;
    let now = exp - 1;
    const tickets = await resourceServer({ now: () => now });
    expect((await tickets.get(token)).status).toBe(200);
    const before = proxy.requests.length;
    now = exp;
    const refused = await tickets.get(token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(
      'Bearer realm="pos-api", error="invalid_token", error_description="The access token is invalid, expired or revoked."',
    );
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.body).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked.' });
    expect(tickets.refusals.map((refusal) => refusal.reason)).toEqual(['jwt_expired']);
    expect(proxy.requests.slice(before)).toEqual([]);
  });

  it('(c) picks up a key rotated by `pos-auth keys rotate`: the new kid after one JWKS refetch, the old one still verifying', async () => {
    const tickets = await resourceServer();
    const oldToken = await login('cook');
    expect((await tickets.get(oldToken)).status).toBe(200);
    const jwksBefore = reached(proxy, 'GET /.well-known/jwks.json');

    const output = await rotateKeysCommand(server.pool, loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt' }), { activateInSeconds: 0, now: clock.now() });
    expect(output).toMatch(/^Signing key \S+ is published now and signs from /u);
    // Every pos-auth instance reads the key set again within its refresh interval (10 s).
    clock.advance(11);
    const newToken = await login('cook');
    expect(decodeProtectedHeader(newToken).kid).not.toBe(decodeProtectedHeader(oldToken).kid);

    expect((await tickets.get(newToken)).status).toBe(200);
    expect(reached(proxy, 'GET /.well-known/jwks.json') - jwksBefore).toBe(1);
    expect((await tickets.get(oldToken)).status).toBe(200);
    expect((await tickets.get(await login('boss'))).status).toBe(200);
    expect(reached(proxy, 'GET /.well-known/jwks.json') - jwksBefore).toBe(1);
  });

  it('(c) needs no refetch at all for a rotation that publishes its key first (the default)', async () => {
    const output = await rotateKeysCommand(server.pool, loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt' }), { now: clock.now() });
    const kid = /^Signing key (\S+) /u.exec(output)![1];
    clock.advance(11);
    // A resource server that fetched the JWKS after the rotation, while the old key still signs ...
    const tickets = await resourceServer();
    const signedByOld = await login('cook');
    expect(decodeProtectedHeader(signedByOld).kid).not.toBe(kid);
    expect((await tickets.get(signedByOld)).status).toBe(200);
    const jwksFetches = reached(proxy, 'GET /.well-known/jwks.json');
    // ... verifies the new key's tokens once it signs, with what it already has.
    clock.advance(370);
    const signedByNew = await login('cook');
    expect(decodeProtectedHeader(signedByNew).kid).toBe(kid);
    expect((await tickets.get(signedByNew)).status).toBe(200);
    expect(reached(proxy, 'GET /.well-known/jwks.json')).toBe(jwksFetches);
  });

  it('(f) answers 403 insufficient_scope to a role that is not allowed, 200 to one that is', async () => {
    const admins = await resourceServer({ roles: ['admin', 'manager'] });
    const refused = await admins.get(await login('cook'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toBe(
      `Bearer realm="pos-api", error="insufficient_scope", error_description="The caller's role does not allow this request."`,
    );
    expect(refused.body).toEqual({ error: 'insufficient_scope', error_description: "The caller's role does not allow this request." });
    expect(admins.refusals.map((refusal) => refusal.reason)).toEqual(['role_patron']);
    expect((await admins.get(await login('boss'))).status).toBe(200);
  });

  it('(f) answers 401 invalid_token to a token for another audience', async () => {
    const payments = await resourceServer({ audience: 'payments', realm: 'payments' });
    const refused = await payments.get(await login('boss'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="payments", error="invalid_token"/u);
    expect(payments.refusals.map((refusal) => refusal.reason)).toEqual(['jwt_claim_aud_check_failed']);
  });

  it.each([
    ['no Authorization header', undefined, 401, 'Bearer realm="pos-api"', { error_description: 'An access token is required: send "Authorization: Bearer <access token>".' }],
    ['Basic credentials', 'Basic b3JkZXJzOnNlY3JldA==', 401, 'Bearer realm="pos-api"', { error_description: expect.any(String) }],
    ['a Bearer header without a token', 'Bearer', 400, expect.stringMatching(/^Bearer realm="pos-api", error="invalid_request"/u), { error: 'invalid_request', error_description: expect.any(String) }],
    ['a Bearer header with two tokens', 'Bearer a b', 400, expect.stringMatching(/error="invalid_request"/u), { error: 'invalid_request', error_description: expect.any(String) }],
  ])('answers %s as RFC 6750 §3 says', async (_, authorization, status, challenge, body) => {
    const tickets = await resourceServer();
    const answer = await tickets.get(undefined, authorization);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('www-authenticate')).toEqual(challenge);
    expect(answer.body).toEqual(body);
  });

  it('answers 503 with Retry-After, never 401, while pos-auth cannot be reached', async () => {
    const unreachable = await resourceServer({ jwksUri: 'http://127.0.0.1:9/.well-known/jwks.json' });
    const answer = await unreachable.get(await login('cook'));
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="pos-api"');
    expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now. Try again shortly.' });
    expect(unreachable.refusals[0]).toMatchObject({ reason: 'jwks_unavailable', cause: expect.anything() });
  });
});

describe('requireAuth with opaque access tokens, through introspection', () => {
  const clock = movableClock();
  let proxy: CountingProxy;
  let server: TestServer;
  let login: (userName: string) => Promise<string>;
  const resourceServers: ResourceServer[] = [];
  const resourceServer = async (cacheTtlSeconds: number, now = () => clock.now().getTime()) => {
    const started = await startResourceServer({ issuer: proxy.url, now, introspection: { ...ordersService, cacheTtlSeconds } });
    resourceServers.push(started);
    return started;
  };
  const revoke = (token: string) =>
    server.deps.sessions.findAccessToken(server.deps.digester.digest(token)).then((found) => revokeSession(server.deps, SessionId(found!.sessionId), 'logout', context));

  beforeAll(async () => {
    ({ proxy, server, login } = await startPosAuth({}, clock));
  });
  afterAll(async () => {
    await Promise.all(resourceServers.map((started) => started.close()));
    await proxy?.close();
    await server?.close();
  });

  it('(d) sees a revocation on the very next request with a cache TTL of 0', async () => {
    const tickets = await resourceServer(0);
    const token = await login('cook');
    expect(token).toMatch(/^[0-9a-f-]{36}$/u);
    const accepted = await tickets.get(token);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ role: 'patron', verifiedBy: 'introspection' });

    await revoke(token);
    const refused = await tickets.get(token);
    expect(refused.status).toBe(401);
    expect(tickets.refusals.map((refusal) => refusal.reason)).toEqual(['inactive']);
  });

  it('(d) sees a revocation once its cache TTL has passed, and asks pos-auth at most once per TTL meanwhile', async () => {
    let now = clock.now().getTime();
    const tickets = await resourceServer(5, () => now);
    const token = await login('cook');
    const introspections = () => reached(proxy, 'POST /oauth/introspect');
    const before = introspections();
    expect((await tickets.get(token)).status).toBe(200);
    await revoke(token);
    now += 4_999;
    expect((await tickets.get(token)).status).toBe(200);
    expect(introspections() - before).toBe(1);
    now += 1;
    expect((await tickets.get(token)).status).toBe(401);
    expect(introspections() - before).toBe(2);
  });

  it('refuses a refresh token presented as an access token', async () => {
    const tickets = await resourceServer(0);
    const response = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(testClient) },
      body: JSON.stringify({ grant_type: 'password', user_name: 'cook', password }),
    });
    const { refresh_token: refreshToken } = (await response.json()) as { refresh_token: string };
    expect((await tickets.get(refreshToken)).status).toBe(401);
    expect(tickets.refusals.map((refusal) => refusal.reason)).toEqual(['introspection_not_an_access_token']);
  });
});
