import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, keySchedule, parseSigningKeySet, retentionSeconds, signingKeyTimings } from './signing-keys.js';

const at = (iso: string) => new Date(iso);
const key = (kid: string, notBefore: string) => ({ kid, notBefore: at(notBefore) });

describe('keySchedule', () => {
  // k1 signs from 10:00, k2 from 11:00, k3 is published at once but signs from 12:00.
  const keys = [key('k2', '2026-01-01T11:00:00Z'), key('k3', '2026-01-01T12:00:00Z'), key('k1', '2026-01-01T10:00:00Z')];
  const retention = 60 * 60_000;
  const schedule = (now: string) => {
    const { signing, published } = keySchedule(keys, Date.parse(now), retention);
    return { signing: signing?.kid ?? null, published: published.map((k) => k.kid) };
  };

  it.each([
    ['before any key began: the earliest signs (a clock behind the one that made it)', '2026-01-01T09:59:59Z', 'k1', ['k1', 'k2', 'k3']],
    ['at the instant k1 begins', '2026-01-01T10:00:00Z', 'k1', ['k1', 'k2', 'k3']],
    ['one millisecond before k2 begins', '2026-01-01T10:59:59.999Z', 'k1', ['k1', 'k2', 'k3']],
    ['at the instant k2 begins: k1 stays published', '2026-01-01T11:00:00Z', 'k2', ['k1', 'k2', 'k3']],
    ['k1 one millisecond before its retention ends', '2026-01-01T11:59:59.999Z', 'k2', ['k1', 'k2', 'k3']],
    ['at k3: k1 leaves (retention over), k2 stays', '2026-01-01T12:00:00Z', 'k3', ['k2', 'k3']],
    ['an hour after k3 began, only k3', '2026-01-01T13:00:00Z', 'k3', ['k3']],
  ])('%s', (_, now, signing, published) => {
    expect(schedule(now)).toEqual({ signing, published });
  });

  it('has no signing key and publishes nothing without keys', () => {
    expect(keySchedule([], Date.now(), retention)).toEqual({ signing: null, published: [] });
  });

  it('keeps a key published for an access-token lifetime, a refresh interval and the clock skew after it stopped signing', () => {
    expect(retentionSeconds(300)).toBe(300 + signingKeyTimings.refreshIntervalSeconds + signingKeyTimings.clockSkewSeconds);
  });
});

describe('generateSigningKey', () => {
  it('makes an Ed25519 key named by its RFC 7638 thumbprint; the published form has no private part', async () => {
    const generated = await generateSigningKey();
    expect(generated.kid).toBe(await calculateJwkThumbprint(generated.publicJwk));
    expect(generated.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: generated.kid, alg: 'EdDSA', use: 'sig' });
    expect(generated.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', x: generated.publicJwk.x, d: expect.any(String) });
    expect((await generateSigningKey()).kid).not.toBe(generated.kid);
  });
});

describe('parseSigningKeySet (ACCESS_TOKEN_SIGNING_KEYS)', () => {
  it('reads private Ed25519 JWKs in order, naming each by its kid or else its thumbprint', async () => {
    const { privateJwk: first } = await generateSigningKey();
    const { privateJwk: second } = await generateSigningKey();
    const { kid: _kid, ...unnamed } = second;
    const keys = await parseSigningKeySet(JSON.stringify({ keys: [{ ...first, kid: 'primary' }, unnamed] }));
    expect(keys.map((k) => k.kid)).toEqual(['primary', await calculateJwkThumbprint(unnamed)]);
    expect(keys[0]!.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: first.x, kid: 'primary', alg: 'EdDSA', use: 'sig' });
  });

  it.each([
    ['not JSON', () => 'keys', 'is not JSON'],
    ['not a key set', () => JSON.stringify({ kty: 'OKP' }), 'must be a JWK Set'],
    ['an empty key set', () => JSON.stringify({ keys: [] }), 'must be a JWK Set'],
    ['a public key only', (d: string, x: string) => JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x }] }), 'key 1 is not a private Ed25519 JWK'],
    ['another curve', (d: string, x: string) => JSON.stringify({ keys: [{ kty: 'OKP', crv: 'X25519', x, d }] }), 'key 1 is not a private Ed25519 JWK'],
    ['a key whose halves do not belong together', (d: string) => JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d }] }), 'key 1 is not a valid Ed25519 private key'],
    ['two keys with one kid', (d: string, x: string) => JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x, d, kid: 'a' }, { kty: 'OKP', crv: 'Ed25519', x, d, kid: 'a' }] }), 'two keys have the same kid'],
  ])('refuses %s, never quoting the private key', async (_, text, message) => {
    const { privateJwk } = await generateSigningKey();
    const error = await parseSigningKeySet(text(privateJwk.d!, privateJwk.x!)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain(privateJwk.d);
  });
});
