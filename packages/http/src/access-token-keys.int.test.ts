import { ClientId, SessionId, UserId, defaultSettings, type AccessTokenClaims } from '@pos-auth/domain';
import { generateSigningKey, systemClock } from '@pos-auth/infrastructure';
import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAccessTokenKeys } from './access-token-keys.js';
import { accessTokenOptionsFrom } from './composition.js';
import { ConfigError, loadConfig } from './config.js';

const claims: AccessTokenClaims = {
  tokenId: '0b6f5c52-8d0e-4c4e-9a51-2f4f0f7a9d11',
  userId: UserId('5f0c2d3e-0000-4000-8000-000000000002'),
  sessionId: SessionId('5f0c2d3e-0000-4000-8000-000000000001'),
  clientId: ClientId('admin-panel'),
  role: 'chef',
  scope: null,
  issuedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 300_000).toISOString(),
};

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 2 });
});
afterAll(() => db?.drop());
beforeEach(async () => {
  await db.pool.query('DELETE FROM signing_keys');
});

const storedKeys = async () => (await db.pool.query('SELECT kid FROM signing_keys')).rowCount;

describe('the keys of JWT access tokens', () => {
  it('are made in the database at the first start in JWT mode, and not in opaque mode', async () => {
    await createAccessTokenKeys(db.pool, { settings: defaultSettings, clock: systemClock });
    expect(await storedKeys()).toBe(0);
    const { signingKeys, accessTokenSigner } = await createAccessTokenKeys(db.pool, { settings: { ...defaultSettings, accessTokenFormat: 'jwt' }, clock: systemClock });
    expect(await storedKeys()).toBe(1);
    const { token, keyId } = await accessTokenSigner.sign(claims);
    expect((await signingKeys.publishedKeys()).map((key) => key.kid)).toEqual([keyId]);
    expect(decodeProtectedHeader(token).kid).toBe(keyId);
  });

  it('come from ACCESS_TOKEN_SIGNING_KEYS when it is set: the first signs, all are published, none is stored', async () => {
    const first = await generateSigningKey();
    const second = await generateSigningKey();
    const config = loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt', ACCESS_TOKEN_SIGNING_KEYS: JSON.stringify({ keys: [first.privateJwk, second.privateJwk] }) });
    const { signingKeys, accessTokenSigner } = await createAccessTokenKeys(db.pool, {
      ...(await accessTokenOptionsFrom(config)),
      settings: { ...defaultSettings, accessTokenFormat: 'jwt' },
      clock: systemClock,
    });
    expect((await accessTokenSigner.sign(claims)).keyId).toBe(first.kid);
    expect(await signingKeys.publishedKeys()).toEqual([first.publicJwk, second.publicJwk]);
    expect(await storedKeys()).toBe(0);
  });

  it('stop the start when ACCESS_TOKEN_SIGNING_KEYS does not parse, naming it and never quoting it', async () => {
    const { privateJwk } = await generateSigningKey();
    const config = loadConfig({ ACCESS_TOKEN_SIGNING_KEYS: JSON.stringify({ keys: [{ ...privateJwk, crv: 'P-256' }] }) });
    const error = await accessTokenOptionsFrom(config).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('ACCESS_TOKEN_SIGNING_KEYS: key 1 is not a private Ed25519 JWK');
    expect((error as Error).message).not.toContain(privateJwk.d);
  });
});
