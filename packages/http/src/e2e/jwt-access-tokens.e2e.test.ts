import { createHash } from 'node:crypto';
import {
  ClientId,
  SessionId,
  UserId,
  defaultSettings,
  introspect,
  refreshToken,
  revokeSession,
  updateUser,
  type Principal,
} from '@pos-auth/domain';
import { loadZxcvbnCommonPasswords, rotateSigningKey, signingKeyTimings } from '@pos-auth/infrastructure';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuthDeps } from '../composition.js';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { form, json, request } from './http.js';

const issuer = 'https://auth.pos.test';
const password = 'correct horse battery staple';
const context = { requestId: 'jwt-e2e' };
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The wall clock, which a test may move forward (the service's key cache reads it). */
const clock = (() => {
  let offsetMs = 0;
  return { now: () => new Date(Date.now() + offsetMs), advance: (seconds: number) => void (offsetMs += seconds * 1000) };
})();

describe('JWT access tokens (ACCESS_TOKEN_FORMAT=jwt) over HTTP', () => {
  let server: TestServer;
  let admin: Principal;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), {
      settings: { accessTokenFormat: 'jwt', accessTokenTtlSeconds: 300, refreshReuseGraceSeconds: 60 },
      accessTokens: { issuer, audience: 'pos-api' },
      clock,
    });
    const registered = await request(`${server.url}/users`, json({ user_name: 'boss', password }));
    admin = { userId: registered.body.id, role: 'admin', sessionId: SessionId('none'), clientId: ClientId(server.client.clientId) };
    await request(`${server.url}/users`, json({ user_name: 'cook', password }));
  });
  afterAll(() => server?.close());

  const login = async (userName: string) => {
    const reply = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password }, { authorization: basicAuth(server.client) }));
    expect(reply.status).toBe(201);
    return reply.body as { access_token: string; refresh_token: string; expires_in: number; expires_at: string };
  };
  const refresh = (refreshToken: string) => request(`${server.url}/auth/refresh-token`, json({ refresh_token: refreshToken }));
  const jwks = async () => (await request(`${server.url}/.well-known/jwks.json`)).body as JSONWebKeySet;
  const verify = async (token: string) =>
    jwtVerify(token, createLocalJWKSet(await jwks()), { issuer, audience: 'pos-api', typ: 'at+jwt', algorithms: ['EdDSA'], currentDate: clock.now() });

  it('answers a login with a signed RFC 9068 JWT that the JWKS verifies, and the service takes it as a Bearer token', async () => {
    const before = Math.floor(clock.now().getTime() / 1000);
    const tokens = await login('cook');
    const { payload, protectedHeader } = await verify(tokens.access_token);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toEqual({
      iss: issuer,
      sub: expect.stringMatching(uuid),
      aud: 'pos-api',
      exp: Math.floor(Date.parse(tokens.expires_at) / 1000),
      iat: expect.any(Number),
      jti: expect.stringMatching(uuid),
      sid: expect.stringMatching(uuid),
      client_id: server.client.clientId,
      role: 'patron',
    });
    expect(payload.iat! - before).toBeLessThanOrEqual(1);
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(tokens.expires_in).toBe(300);

    const me = await request(`${server.url}/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: payload.sub, user_name: 'cook' });
  });

  it('publishes only public keys at /.well-known/jwks.json, cacheable for five minutes', async () => {
    const reply = await request(`${server.url}/.well-known/jwks.json`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.headers.get('cache-control')).toBe(`public, max-age=${signingKeyTimings.jwksMaxAgeSeconds}`);
    expect(reply.body.keys.length).toBeGreaterThan(0);
    for (const key of reply.body.keys) expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect((await request(`${server.url}/.well-known/jwks.json`, { method: 'POST' })).status).toBe(405);
  });

  it('stores only the SHA-256 digest of the JWT, with the role and key it was made with', async () => {
    const tokens = await login('cook');
    const { sid } = decodeJwt(tokens.access_token);
    const { rows } = await server.pool.query<{ data: Record<string, unknown>; text: string }>(
      "SELECT data, data::text || metadata::text AS text FROM events WHERE type = 'TokenIssued' AND data->>'sessionId' = $1",
      [sid],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.data).toMatchObject({
      accessTokenDigest: createHash('sha256').update(tokens.access_token).digest('hex'),
      role: 'patron',
      accessTokenKeyId: decodeProtectedHeader(tokens.access_token).kid,
    });
    const [, payload, signature] = tokens.access_token.split('.');
    expect(rows[0]!.text).not.toContain(payload);
    expect(rows[0]!.text).not.toContain(signature);
  });

  it('answers a replay of the parent inside the grace window with a byte-identical JWT, after a key rotation and a role change', async () => {
    const tokens = await login('cook');
    const first = await refresh(tokens.refresh_token);
    expect(first.status).toBe(201);
    const kidBefore = decodeProtectedHeader(first.body.access_token).kid;

    // Meanwhile the key rotates (and every instance has read it) and the user gets another role.
    await rotateSigningKey(server.pool, { now: clock.now(), activateInSeconds: 0 });
    clock.advance(signingKeyTimings.refreshIntervalSeconds + 1);
    const cook = decodeJwt(first.body.access_token).sub!;
    await updateUser(server.deps, admin, UserId(cook), { role: 'chef' }, context);

    const replay = await refresh(tokens.refresh_token);
    expect(replay.status).toBe(201);
    expect(replay.body.access_token).toBe(first.body.access_token);
    expect(replay.body.refresh_token).toBe(first.body.refresh_token);
    expect(replay.body.expires_at).toBe(first.body.expires_at);
    expect(replay.body.expires_in).toBeLessThanOrEqual(first.body.expires_in);

    // The next rotation is signed by the new key and carries the new role.
    const next = await refresh(first.body.refresh_token);
    expect(decodeProtectedHeader(next.body.access_token).kid).not.toBe(kidBefore);
    expect(decodeJwt(next.body.access_token).role).toBe('chef');
    await expect(verify(replay.body.access_token)).resolves.toBeDefined();
    await expect(verify(next.body.access_token)).resolves.toBeDefined();
  });

  it('gives every one of 12 racing refreshes of one token the same JWT', async () => {
    const tokens = await login('boss');
    const replies = await Promise.all(Array.from({ length: 12 }, () => refresh(tokens.refresh_token)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(12).fill(201));
    expect(new Set(replies.map((reply) => reply.body.access_token)).size).toBe(1);
    expect(new Set(replies.map((reply) => reply.body.refresh_token)).size).toBe(1);
  });

  it('refuses, at once, a JWT of a revoked session although its signature and exp are still valid', async () => {
    const tokens = await login('boss');
    const { sid } = decodeJwt(tokens.access_token);
    const bearer = { headers: { authorization: `Bearer ${tokens.access_token}` } };
    expect(await introspect(server.deps, tokens.access_token)).toMatchObject({ active: true, tokenType: 'access_token', role: 'admin' });

    await revokeSession(server.deps, SessionId(String(sid)), 'logout', context);

    await expect(verify(tokens.access_token)).resolves.toBeDefined();
    expect(await introspect(server.deps, tokens.access_token)).toEqual({ active: false });
    const me = await request(`${server.url}/users/me`, bearer);
    expect(me.status).toBe(401);
    expect(me.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth", error="invalid_token"');
  });

  it('refuses a JWT that was never issued, even one signed with a published key', async () => {
    const tokens = await login('cook');
    const [header, payload, signature] = tokens.access_token.split('.');
    const other = Buffer.from(JSON.stringify({ ...decodeJwt(tokens.access_token), role: 'admin' })).toString('base64url');
    // One bit of the signature flipped: always another signature (new last characters could be the same ones).
    const bytes = Buffer.from(signature!, 'base64url');
    bytes[0]! ^= 0x01;
    for (const forged of [`${header}.${other}.${signature}`, `${header}.${payload}.${bytes.toString('base64url')}`]) {
      expect((await request(`${server.url}/users/me`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
      expect(await introspect(server.deps, forged!)).toEqual({ active: false });
    }
  });

  it('answers a replay with the format its rotation was recorded in, whatever the instance answering is configured for', async () => {
    const opaque = await createAuthDeps(server.pool, {
      passwordHasher: server.deps.passwordHasher,
      commonPasswords: await loadZxcvbnCommonPasswords(),
      settings: { ...defaultSettings, refreshReuseGraceSeconds: 60 },
      accessTokens: { issuer },
      clock,
    });
    // Rotated by an instance in JWT mode, replayed on one in opaque mode: the same JWT.
    const jwtSession = await login('cook');
    const byJwt = await refresh(jwtSession.refresh_token);
    const replayedByOpaque = await refreshToken(opaque, { refreshToken: jwtSession.refresh_token, clientId: null }, context);
    expect(replayedByOpaque.accessToken).toBe(byJwt.body.access_token);

    // Rotated by an instance in opaque mode, replayed on one in JWT mode: the same UUID.
    const opaqueSession = await login('cook');
    const byOpaque = await refreshToken(opaque, { refreshToken: opaqueSession.refresh_token, clientId: null }, context);
    expect(byOpaque.accessToken).toMatch(uuid);
    const replayedByJwt = await refresh(opaqueSession.refresh_token);
    expect(replayedByJwt.body.access_token).toBe(byOpaque.accessToken);
  });

  it('takes JWT access tokens on /oauth/token too, with the form encoding stock clients send', async () => {
    const reply = await request(`${server.url}/oauth/token`, form({ grant_type: 'password', username: 'cook', password }, { authorization: basicAuth(server.client) }));
    expect(reply.status).toBe(200);
    await expect(verify(reply.body.access_token)).resolves.toBeDefined();
  });
});
