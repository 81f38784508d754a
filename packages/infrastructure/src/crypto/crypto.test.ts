import { describe, expect, it } from 'vitest';
import { createArgon2PasswordHasher, defaultArgon2Params } from './argon2-password-hasher.js';
import { randomBytes } from 'node:crypto';
import { createTokenGenerator, createSha256Digester } from './tokens.js';

describe('argon2 password hasher', async () => {
  const hasher = await createArgon2PasswordHasher();

  it('stores argon2id PHC strings at m=19 MiB, t=2, p=1', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(hasher.dummyHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it.each([
    ['the right password', 'correct horse battery staple', true],
    ['a wrong password', 'correct horse battery stapler', false],
    ['an empty password', '', false],
  ])('verifies %s', async (_, candidate, expected) => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(phc, candidate)).toBe(expected);
  });

  it('treats a malformed stored hash as a mismatch, not an error', async () => {
    expect(await hasher.verify('not-a-phc-string', 'anything')).toBe(false);
  });

  it('refuses parameters below the floor', async () => {
    await expect(createArgon2PasswordHasher({ ...defaultArgon2Params, memoryCost: 4096 })).rejects.toThrow(TypeError);
  });
});

describe('tokens', () => {
  const tokens = createTokenGenerator(randomBytes(32));
  const digester = createSha256Digester();
  const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('makes UUID v4 access tokens and 256-bit refresh tokens, never twice the same', () => {
    const pairs = Array.from({ length: 1000 }, () => tokens.newPair());
    const children = pairs.map((pair) => tokens.childOf(pair.refreshToken));
    for (const all of [pairs, children]) {
      expect(new Set(all.map((pair) => pair.accessToken)).size).toBe(1000);
      expect(new Set(all.map((pair) => pair.refreshToken)).size).toBe(1000);
      for (const { accessToken, refreshToken } of all) {
        expect(accessToken).toMatch(uuidV4);
        expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
      }
    }
  });

  it('derives the same child from the same parent, and another under another key', () => {
    const parent = tokens.newPair().refreshToken;
    expect(tokens.childOf(parent)).toEqual(tokens.childOf(parent));
    expect(createTokenGenerator(randomBytes(32)).childOf(parent)).not.toEqual(tokens.childOf(parent));
    expect(tokens.childOf(tokens.childOf(parent).refreshToken)).not.toEqual(tokens.childOf(parent));
  });

  it('refuses a short derivation key', () => {
    expect(() => createTokenGenerator(randomBytes(16))).toThrow(TypeError);
  });

  it('digests with SHA-256 and matches only the same secret', () => {
    expect(digester.digest('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digester.matches('abc', digester.digest('abc'))).toBe(true);
    expect(digester.matches('abd', digester.digest('abc'))).toBe(false);
    expect(digester.matches('abc', digester.digest('abc').slice(2) as never)).toBe(false);
  });
});
