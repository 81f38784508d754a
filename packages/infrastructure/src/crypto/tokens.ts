import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { TokenDigest, type RawTokens, type SecretDigester, type TokenGenerator } from '@pos-auth/domain';

/** Bytes of randomness in a refresh token: 256 bits. */
export const refreshTokenBytes = 32;

/** 16 bytes laid out as a UUID v4 (version and variant bits set), as the seed's access tokens are. */
const asUuidV4 = (bytes: Buffer): string => {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * Tokens from the operating system's CSPRNG for a login: the access token a UUID v4 (122 random
 * bits, the seed's format), the refresh token 256 random bits in base64url. A refresh's child pair
 * is HMAC-SHA256 of its parent under `derivationKey` (a server secret, never stored with the
 * tokens): unpredictable without the key and the parent, and the same for every replay of that
 * parent, which is what lets a retry inside the grace window get the very same answer while only
 * digests are stored.
 *
 * @example
 * const tokens = createTokenGenerator(serviceKeys.tokenDerivation);
 * const login = tokens.newPair();
 * tokens.childOf(login.refreshToken); // the same pair every time
 */
export const createTokenGenerator = (derivationKey: Buffer): TokenGenerator => {
  if (derivationKey.length < 32) throw new TypeError('createTokenGenerator: the derivation key must be at least 32 bytes');
  const derive = (purpose: string, parent: string) => createHmac('sha256', derivationKey).update(`pos-auth/${purpose}\0${parent}`, 'utf8').digest();
  return {
    newPair: (): RawTokens => ({ accessToken: randomUUID(), refreshToken: randomBytes(refreshTokenBytes).toString('base64url') }),
    childOf: (parent): RawTokens => ({
      accessToken: asUuidV4(derive('access', parent)),
      refreshToken: derive('refresh', parent).toString('base64url'),
    }),
  };
};

const sha256 = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/**
 * SHA-256 digests for tokens and client secrets. Comparison hashes the candidate and compares the
 * fixed-length digests with `timingSafeEqual`, so timing reveals nothing of the stored value.
 *
 * @example
 * const digester = createSha256Digester();
 * digester.matches('s3cret', digester.digest('s3cret')); // true
 */
export const createSha256Digester = (): SecretDigester => ({
  digest: (secret) => TokenDigest(sha256(secret).toString('hex')),
  matches: (secret, digest) => {
    const expected = Buffer.from(digest, 'hex');
    const actual = sha256(secret);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  },
});
