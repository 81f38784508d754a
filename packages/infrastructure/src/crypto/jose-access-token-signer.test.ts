import { ClientId, SessionId, UserId, type AccessTokenClaims } from '@pos-auth/domain';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createJoseAccessTokenSigner } from './jose-access-token-signer.js';
import { createConfiguredSigningKeys, generateSigningKey } from './signing-keys.js';

const claims: AccessTokenClaims = {
  tokenId: '0b6f5c52-8d0e-4c4e-9a51-2f4f0f7a9d11',
  userId: UserId('5f0c2d3e-0000-4000-8000-000000000002'),
  sessionId: SessionId('5f0c2d3e-0000-4000-8000-000000000001'),
  clientId: ClientId('admin-panel'),
  role: 'chef',
  scope: null,
  issuedAt: '2026-01-01T00:00:00.250Z',
  expiresAt: '2026-01-01T00:05:00.250Z',
};

const setUp = async () => {
  const first = await generateSigningKey();
  const second = await generateSigningKey();
  const keys = createConfiguredSigningKeys([first, second]);
  const signer = createJoseAccessTokenSigner(keys, { issuer: 'https://auth.pos.example', audience: 'pos-api' });
  const jwks = createLocalJWKSet({ keys: [...(await keys.publishedKeys())] });
  return { first, second, signer, jwks };
};

const verifyAt = (token: string, jwks: ReturnType<typeof createLocalJWKSet>, instant: string) =>
  jwtVerify(token, jwks, { issuer: 'https://auth.pos.example', audience: 'pos-api', typ: 'at+jwt', currentDate: new Date(instant) });

describe('JWT access tokens signed with jose', () => {
  it('carry RFC 9068 claims, in order, under an at+jwt EdDSA header naming the key', async () => {
    const { first, signer, jwks } = await setUp();
    const { token, keyId } = await signer.sign(claims);
    expect(keyId).toBe(first.kid);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: first.kid });
    const { payload } = await verifyAt(token, jwks, '2026-01-01T00:00:01Z');
    expect(Object.entries(payload)).toEqual([
      ['iss', 'https://auth.pos.example'],
      ['sub', claims.userId],
      ['aud', 'pos-api'],
      ['exp', Date.parse('2026-01-01T00:05:00Z') / 1000],
      ['iat', Date.parse('2026-01-01T00:00:00Z') / 1000],
      ['jti', claims.tokenId],
      ['sid', claims.sessionId],
      ['client_id', 'admin-panel'],
      ['role', 'chef'],
    ]);
  });

  it("carry the session's scope when it has one", async () => {
    const { signer, jwks } = await setUp();
    const { token } = await signer.sign({ ...claims, scope: 'orders:read' });
    expect((await verifyAt(token, jwks, '2026-01-01T00:00:01Z')).payload['scope']).toBe('orders:read');
  });

  it('are the same token, byte for byte, when the same claims are signed again, by sign or by signWith', async () => {
    const { first, signer } = await setUp();
    const { token } = await signer.sign(claims);
    expect((await signer.sign(claims)).token).toBe(token);
    expect(await signer.signWith(first.kid, claims)).toBe(token);
  });

  it('are signed by the named key on a replay, and not at all by a key that is not kept', async () => {
    const { second, signer, jwks } = await setUp();
    const token = await signer.signWith(second.kid, claims);
    expect(decodeProtectedHeader(token!).kid).toBe(second.kid);
    await expect(verifyAt(token!, jwks, '2026-01-01T00:00:01Z')).resolves.toBeDefined();
    expect(await signer.signWith('no-such-key', claims)).toBeNull();
  });

  it('expire on the second their expires_at falls in, never after it (exp is rounded down)', async () => {
    const { signer, jwks } = await setUp();
    const { token } = await signer.sign(claims);
    await expect(verifyAt(token, jwks, '2026-01-01T00:04:59.999Z')).resolves.toBeDefined();
    await expect(verifyAt(token, jwks, '2026-01-01T00:05:00.000Z')).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });
});
