import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { TokenDigest, type SecretDigester, type TokenGenerator } from '@pos-auth/domain';

/** Bytes of randomness in a refresh token: 256 bits. */
export const refreshTokenBytes = 32;

/**
 * Tokens from the operating system's CSPRNG: access tokens are UUID v4 (122 random bits, the
 * seed's format), refresh tokens 256 random bits in base64url.
 *
 * @example
 * const tokens = createRandomTokenGenerator();
 * tokens.refreshToken(); // 'q3Xb...' (43 characters)
 */
export const createRandomTokenGenerator = (): TokenGenerator => ({
  accessToken: () => randomUUID(),
  refreshToken: () => randomBytes(refreshTokenBytes).toString('base64url'),
});

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
