import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims, AccessTokenSigner, SecretDigester } from '../ports.js';
import { ClientId, SessionId, TokenDigest, UserId } from '../shared/ids.js';
import { defaultTokenSettings } from './deps.js';
import { mintPair, remintAccessToken } from './tokens.js';

/** A signer that writes its input out, so that a test sees exactly what was signed with which key. */
const signer: AccessTokenSigner = {
  sign: async (claims) => ({ token: `jwt(k-now,${JSON.stringify(claims)})`, keyId: 'k-now' }),
  signWith: async (keyId, claims) => (keyId === 'k-gone' ? null : `jwt(${keyId},${JSON.stringify(claims)})`),
};
const digester: SecretDigester = { digest: (secret) => TokenDigest(`#${secret}`), matches: (secret, digest) => `#${secret}` === digest };

const raw = { accessToken: '0b6f5c52-8d0e-4c4e-9a51-2f4f0f7a9d11', refreshToken: 'refresh-1' };
const holder = {
  userId: UserId('user-1'),
  sessionId: SessionId('session-1'),
  clientId: ClientId('admin-panel'),
  role: 'chef' as const,
  scope: null,
};
const now = new Date('2026-01-01T00:00:00.000Z');
const sessionEnd = new Date('2026-01-31T00:00:00.000Z');
const deps = (format: 'opaque' | 'jwt', accessTokenTtlSeconds = 300) => ({
  digester,
  accessTokenSigner: signer,
  settings: { ...defaultTokenSettings, accessTokenFormat: format, accessTokenTtlSeconds },
});
const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  tokenId: raw.accessToken,
  ...holder,
  issuedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:05:00.000Z',
  ...overrides,
});

describe('minting a pair', () => {
  it('opaque: the access token is the UUID, recorded with the role and no key', async () => {
    const { tokens, pair } = await mintPair(deps('opaque'), raw, holder, now, sessionEnd);
    expect(tokens).toEqual(raw);
    expect(pair).toMatchObject({ accessTokenDigest: `#${raw.accessToken}`, role: 'chef', accessTokenKeyId: null });
  });

  it('jwt: the access token is the claims signed with the key that signs now, its digest and key recorded', async () => {
    const { tokens, pair } = await mintPair(deps('jwt'), raw, holder, now, sessionEnd);
    expect(tokens.accessToken).toBe(`jwt(k-now,${JSON.stringify(claims())})`);
    expect(pair).toMatchObject({ accessTokenDigest: `#${tokens.accessToken}`, accessTokenExpiresAt: '2026-01-01T00:05:00.000Z', accessTokenKeyId: 'k-now' });
  });

  it('never lets the access token outlive the session', async () => {
    const { tokens, pair } = await mintPair(deps('jwt'), raw, holder, now, new Date('2026-01-01T00:01:00.000Z'));
    expect(pair.accessTokenExpiresAt).toBe('2026-01-01T00:01:00.000Z');
    expect(tokens.accessToken).toContain('"expiresAt":"2026-01-01T00:01:00.000Z"');
  });
});

describe('minting the access token of a replay again', () => {
  const recorded = (token: string, keyId: string | null, role: 'patron' | null = 'patron') => ({
    digest: TokenDigest(`#${token}`),
    issuedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:05:00.000Z',
    role,
    keyId,
  });

  it('signs the recorded claims with the recorded key, whatever the role and key are now', async () => {
    const first = `jwt(k-old,${JSON.stringify(claims({ role: 'patron' }))})`;
    expect(await remintAccessToken(deps('jwt'), raw, holder, recorded(first, 'k-old'))).toBe(first);
  });

  it('answers the UUID for a pair recorded as opaque, whatever the format is now', async () => {
    expect(await remintAccessToken(deps('jwt'), raw, holder, recorded(raw.accessToken, null))).toBe(raw.accessToken);
    expect(await remintAccessToken(deps('jwt'), raw, holder, recorded(raw.accessToken, null, null))).toBe(raw.accessToken);
  });

  it.each([
    ['its key is no longer kept', recorded('anything', 'k-gone')],
    ['the token made again is not the one recorded', recorded('another token', 'k-old')],
  ])('gives nothing when %s: a replay answers only a recorded token', async (_, access) => {
    expect(await remintAccessToken(deps('jwt'), raw, holder, access)).toBeNull();
  });
});
