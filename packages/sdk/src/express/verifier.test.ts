import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessTokenRefusal } from './refusal.js';
import { createAccessTokenVerifier, type AccessTokenVerifierOptions } from './verifier.js';

/**
 * The verifier against a pos-auth that lives in memory: a `fetch` that answers the metadata, the
 * JWKS and introspection as the service does, counts what it is asked, and can fail. The clock is
 * frozen, so that "expired" is an exact instant.
 */
const issuer = 'https://auth.pos.test';
const now = Date.parse('2026-03-01T12:00:00Z');
const nowSeconds = now / 1000;

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const newKey = async (): Promise<Key> => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
};

const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: issuer,
  sub: 'user-1',
  aud: 'pos-api',
  exp: nowSeconds + 300,
  iat: nowSeconds - 10,
  jti: 'token-1',
  sid: 'session-1',
  client_id: 'admin-panel',
  role: 'chef',
  ...overrides,
});

const sign = (key: Key, payload: JWTPayload = claims(), header: Record<string, unknown> = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);

type Answer = { readonly status: number; readonly body: unknown } | 'network-error';

/** The service's answers, by path; each test sets what it needs. */
const fakePosAuth = (keys: () => readonly Key[]) => {
  const asked: string[] = [];
  const answers = new Map<string, () => Answer | Promise<Answer>>([
    [
      '/.well-known/oauth-authorization-server',
      () => ({ status: 200, body: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, introspection_endpoint: `${issuer}/oauth/introspect` } }),
    ],
    ['/.well-known/jwks.json', () => ({ status: 200, body: { keys: keys().map((key) => key.publicJwk) } })],
    ['/oauth/introspect', () => ({ status: 200, body: { active: false } })],
  ]);
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    asked.push(url.pathname);
    if (url.pathname === '/oauth/introspect') {
      expect(init?.headers).toMatchObject({ authorization: `Basic ${btoa('resource-server:rs-secret')}` });
    }
    const answer = (await answers.get(url.pathname)?.()) ?? { status: 404, body: {} };
    if (answer === 'network-error') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, asked, answer: (path: string, answer: () => Answer | Promise<Answer>) => answers.set(path, answer) };
};

const refusalOf = async (promise: Promise<unknown>): Promise<AccessTokenRefusal> => {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AccessTokenRefusal);
  return error as AccessTokenRefusal;
};

let signing: Key;
let unpublished: Key;

beforeAll(async () => {
  signing = await newKey();
  unpublished = await newKey();
});

const setUp = (options: Partial<AccessTokenVerifierOptions> = {}) => {
  const posAuth = fakePosAuth(() => [signing]);
  const verifier = createAccessTokenVerifier({ issuer, fetch: posAuth.fetch, now: () => now, jwksCooldownSeconds: 0, ...options });
  return { posAuth, verifier };
};

describe('a JWT access token', () => {
  it('is accepted with its principal, its issuer`s metadata and JWKS fetched once', async () => {
    const { verifier, posAuth } = setUp();
    const token = await sign(signing);
    expect(await verifier.verify(token)).toEqual({
      userId: 'user-1',
      role: 'chef',
      sessionId: 'session-1',
      clientId: 'admin-panel',
      scope: null,
      issuedAt: nowSeconds - 10,
      expiresAt: nowSeconds + 300,
      verifiedBy: 'jwt',
    });
    await verifier.verify(token);
    await verifier.verify(await sign(signing, claims({ scope: 'orders' })));
    expect(posAuth.asked).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']);
  });

  it('is accepted until the second before exp, and refused from exp on (jwt_expired)', async () => {
    const { verifier } = setUp();
    await expect(verifier.verify(await sign(signing, claims({ exp: nowSeconds + 1 })))).resolves.toBeDefined();
    expect(await refusalOf(verifier.verify(await sign(signing, claims({ exp: nowSeconds }))))).toMatchObject({
      status: 401,
      error: 'invalid_token',
      reason: 'jwt_expired',
    });
  });

  it.each<[string, () => Promise<string>, string]>([
    ['from another issuer', () => sign(signing, claims({ iss: 'https://evil.test' })), 'jwt_claim_iss_check_failed'],
    ['for another audience', () => sign(signing, claims({ aud: 'payments' })), 'jwt_claim_aud_check_failed'],
    ['of another type (an ID token)', () => sign(signing, claims(), { typ: 'JWT' }), 'jwt_claim_typ_check_failed'],
    ['without a type', () => sign(signing, claims(), { typ: undefined }), 'jwt_claim_typ_check_failed'],
    ['without a session id', () => sign(signing, claims({ sid: undefined })), 'jwt_claim_sid_missing'],
    ['without a client id', () => sign(signing, claims({ client_id: undefined })), 'jwt_claim_client_id_missing'],
    ['with a role pos-auth does not have', () => sign(signing, claims({ role: 'root' })), 'jwt_role_unknown'],
    ['with a role that is not a string', () => sign(signing, claims({ role: ['admin'] })), 'jwt_role_unknown'],
    ['signed by a key pos-auth does not publish', () => sign(unpublished), 'jwt_unknown_key'],
    ['naming a published key but signed by another', () => sign({ ...unpublished, kid: signing.kid }), 'jwt_signature_invalid'],
    [
      'with its claims changed after signing',
      async () => {
        const [header, , signature] = (await sign(signing)).split('.');
        return `${header}.${base64url.encode(JSON.stringify(claims({ role: 'admin' })))}.${signature}`;
      },
      'jwt_signature_invalid',
    ],
    [
      'unsigned (alg none)',
      async () => `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(claims()))}.`,
      'jwt_algorithm_not_allowed',
    ],
    ['three parts that are not a JWS', async () => 'not.a.jws', 'jwt_malformed'],
    [
      'signed with a shared secret (HS256)',
      () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signing.kid }).sign(new Uint8Array(32)),
      'jwt_algorithm_not_allowed',
    ],
  ])('is refused when it is %s', async (_, token, reason) => {
    const { verifier } = setUp();
    const refusal = await refusalOf(verifier.verify(await token()));
    expect(refusal).toMatchObject({ status: 401, error: 'invalid_token', reason });
    expect(refusal.description).toBe('The access token is invalid, expired or revoked.');
  });

  it('signed by a key published after the JWKS was fetched is accepted after one more fetch', async () => {
    let published = [signing];
    const posAuth = fakePosAuth(() => published);
    const verifier = createAccessTokenVerifier({ issuer, jwksUri: `${issuer}/.well-known/jwks.json`, fetch: posAuth.fetch, now: () => now, jwksCooldownSeconds: 0 });
    await verifier.verify(await sign(signing));
    published = [signing, unpublished];
    await expect(verifier.verify(await sign(unpublished))).resolves.toMatchObject({ verifiedBy: 'jwt' });
    await verifier.verify(await sign(signing));
    expect(posAuth.asked).toEqual(['/.well-known/jwks.json', '/.well-known/jwks.json']);
  });

  it('with an unknown key does not fetch the JWKS again within the cooldown', async () => {
    const { verifier, posAuth } = setUp({ jwksCooldownSeconds: 30 });
    await verifier.verify(await sign(signing));
    await refusalOf(verifier.verify(await sign(unpublished)));
    expect(posAuth.asked.filter((path) => path === '/.well-known/jwks.json')).toHaveLength(1);
  });

  it('is never introspected instead when it fails: a forged JWT costs pos-auth nothing', async () => {
    const { verifier, posAuth } = setUp({ introspection: { clientId: 'resource-server', clientSecret: 'rs-secret' } });
    await refusalOf(verifier.verify(await sign(signing, claims({ exp: nowSeconds - 1 }))));
    expect(posAuth.asked).not.toContain('/oauth/introspect');
  });

  it.each<[string, Answer]>([
    ['the JWKS cannot be reached', 'network-error'],
    ['the JWKS answers 500', { status: 500, body: {} }],
    ['the JWKS is not a key set', { status: 200, body: { keys: 'none' } }],
  ])('cannot be checked while %s: 503, never 401, and the next request tries again', async (_, failure) => {
    const { verifier, posAuth } = setUp();
    posAuth.answer('/.well-known/jwks.json', () => failure);
    expect(await refusalOf(verifier.verify(await sign(signing)))).toMatchObject({ status: 503, error: 'temporarily_unavailable', reason: 'jwks_unavailable' });
    posAuth.answer('/.well-known/jwks.json', () => ({ status: 200, body: { keys: [signing.publicJwk] } }));
    await expect(verifier.verify(await sign(signing))).resolves.toBeDefined();
  });
});

describe('discovery (RFC 8414)', () => {
  it('takes the issuer with or without a trailing slash', async () => {
    const { verifier } = setUp({ issuer: `${issuer}/` });
    await expect(verifier.verify(await sign(signing))).resolves.toBeDefined();
  });

  it('refuses metadata that names another issuer (§3.3)', async () => {
    const { verifier, posAuth } = setUp();
    posAuth.answer('/.well-known/oauth-authorization-server', () => ({ status: 200, body: { issuer: 'https://evil.test', jwks_uri: 'https://evil.test/jwks' } }));
    expect(await refusalOf(verifier.verify(await sign(signing)))).toMatchObject({ status: 503, reason: 'metadata_issuer_mismatch' });
    expect(posAuth.asked).not.toContain('/jwks');
  });

  it('does not keep a failed discovery: the next request discovers again', async () => {
    const { verifier, posAuth } = setUp();
    posAuth.answer('/.well-known/oauth-authorization-server', () => 'network-error');
    expect(await refusalOf(verifier.verify(await sign(signing)))).toMatchObject({ status: 503, reason: 'metadata_unavailable' });
    posAuth.answer('/.well-known/oauth-authorization-server', () => ({ status: 200, body: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json` } }));
    await expect(verifier.verify(await sign(signing))).resolves.toBeDefined();
  });
});

describe('an opaque access token', () => {
  const opaque = '0b6f5c52-8d0e-4c4e-9a51-2f4f0f7a9d11';
  const active = (overrides: Record<string, unknown> = {}): Answer => ({
    status: 200,
    body: {
      active: true,
      token_type: 'Bearer',
      client_id: 'admin-panel',
      username: 'cook',
      sub: 'user-1',
      sid: 'session-1',
      role: 'chef',
      exp: nowSeconds + 300,
      iat: nowSeconds - 10,
      ...overrides,
    },
  });
  const introspecting = (cache: { cacheTtlSeconds?: number; cacheMaxEntries?: number } = {}, clock = () => now) => {
    const posAuth = fakePosAuth(() => [signing]);
    const verifier = createAccessTokenVerifier({
      issuer,
      fetch: posAuth.fetch,
      now: clock,
      introspection: { clientId: 'resource-server', clientSecret: 'rs-secret', ...cache },
    });
    const introspections = () => posAuth.asked.filter((path) => path === '/oauth/introspect').length;
    return { verifier, posAuth, introspections };
  };

  it('is refused without introspection configured, and pos-auth is not asked', async () => {
    const { verifier, posAuth } = setUp();
    expect(await refusalOf(verifier.verify(opaque))).toMatchObject({ status: 401, reason: 'opaque_token_without_introspection' });
    expect(posAuth.asked).toEqual([]);
  });

  it('is accepted when pos-auth says it is an active access token', async () => {
    const { verifier, posAuth } = introspecting();
    posAuth.answer('/oauth/introspect', () => active());
    expect(await verifier.verify(opaque)).toMatchObject({ userId: 'user-1', role: 'chef', sessionId: 'session-1', verifiedBy: 'introspection' });
  });

  it.each<[string, Answer, string]>([
    ['inactive', { status: 200, body: { active: false } }, 'inactive'],
    ['a refresh token', active({ token_type: 'refresh_token' }), 'introspection_not_an_access_token'],
    ['of no stated type', active({ token_type: undefined }), 'introspection_not_an_access_token'],
    ['past its exp', active({ exp: nowSeconds }), 'introspection_expired'],
    ['of an unknown role', active({ role: 'root' }), 'introspection_role_unknown'],
  ])('is refused when it is %s', async (_, answer, reason) => {
    const { verifier, posAuth } = introspecting();
    posAuth.answer('/oauth/introspect', () => answer);
    expect(await refusalOf(verifier.verify(opaque))).toMatchObject({ status: 401, error: 'invalid_token', reason });
  });

  it.each<[string, Answer, string]>([
    ['pos-auth cannot be reached', 'network-error', 'introspection_unreachable'],
    ['pos-auth answers 503', { status: 503, body: {} }, 'introspection_status_503'],
    ['pos-auth refuses the resource server as a client', { status: 401, body: { error: 'invalid_client' } }, 'introspection_status_401'],
    ['the answer has no active field', { status: 200, body: {} }, 'introspection_without_active'],
  ])('cannot be checked when %s: 503, not cached, the next request asks again', async (_, failure, reason) => {
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 60 });
    posAuth.answer('/oauth/introspect', () => failure);
    expect(await refusalOf(verifier.verify(opaque))).toMatchObject({ status: 503, error: 'temporarily_unavailable', reason });
    posAuth.answer('/oauth/introspect', () => active());
    await expect(verifier.verify(opaque)).resolves.toBeDefined();
    expect(introspections()).toBe(2);
  });

  it('reuses an answer for cacheTtlSeconds, then asks again', async () => {
    let clock = now;
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 5 }, () => clock);
    posAuth.answer('/oauth/introspect', () => active());
    await verifier.verify(opaque);
    clock = now + 4_999;
    await verifier.verify(opaque);
    expect(introspections()).toBe(1);
    posAuth.answer('/oauth/introspect', () => ({ status: 200, body: { active: false } }));
    clock = now + 5_000;
    expect(await refusalOf(verifier.verify(opaque))).toMatchObject({ reason: 'inactive' });
    expect(introspections()).toBe(2);
  });

  it('asks on every request with a cache TTL of 0', async () => {
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 0 });
    posAuth.answer('/oauth/introspect', () => active());
    await verifier.verify(opaque);
    await verifier.verify(opaque);
    expect(introspections()).toBe(2);
  });

  it('never reuses an active answer past the token`s exp', async () => {
    let clock = now;
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 60 }, () => clock);
    posAuth.answer('/oauth/introspect', () => active({ exp: nowSeconds + 2 }));
    await verifier.verify(opaque);
    clock = now + 2_000;
    expect(await refusalOf(verifier.verify(opaque))).toMatchObject({ reason: 'introspection_expired' });
    expect(introspections()).toBe(2);
  });

  it('keeps at most cacheMaxEntries answers, dropping the least recently used', async () => {
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 60, cacheMaxEntries: 2 });
    posAuth.answer('/oauth/introspect', () => active());
    for (const token of ['token-a', 'token-b', 'token-a', 'token-c']) await verifier.verify(token);
    expect(introspections()).toBe(3);
    await verifier.verify('token-a');
    expect(introspections()).toBe(3);
    await verifier.verify('token-b');
    expect(introspections()).toBe(4);
  });

  it('asks once for concurrent checks of one token', async () => {
    const { verifier, posAuth, introspections } = introspecting({ cacheTtlSeconds: 0 });
    posAuth.answer('/oauth/introspect', () => new Promise((resolve) => setTimeout(() => resolve(active()), 50)));
    await Promise.all(Array.from({ length: 5 }, () => verifier.verify(opaque)));
    expect(introspections()).toBe(1);
  });
});
