import type { AccessTokenClaims, AccessTokenSigner } from '@pos-auth/domain';
import { SignJWT } from 'jose';
import { signingAlgorithm, type SigningKey, type SigningKeys } from './signing-keys.js';

export interface AccessTokenSignerOptions {
  /** `iss`: the service's public base URL (`ISSUER`). */
  readonly issuer: string;
  /** `aud`: whom the tokens are for (`ACCESS_TOKEN_AUDIENCE`). */
  readonly audience: string;
}

/** The audience of access tokens unless configured: the POS API's resource servers. */
export const defaultAccessTokenAudience = 'pos-api';

const epochSeconds = (instant: string): number => Math.floor(Date.parse(instant) / 1000);

/**
 * JWT access tokens (RFC 9068) signed with jose: header `{alg: "EdDSA", typ: "at+jwt", kid}`,
 * claims `iss`, `sub` (the user id), `aud`, `exp`, `iat`, `jti`, `sid`, `client_id`, `role` and,
 * when the session has one, `scope`, always in that order. `exp` is rounded down to the second, so
 * a token never outlives its `expires_at`. Ed25519 signatures are deterministic and the claims are
 * serialized in a fixed order, so the same claims and key always give the same token.
 *
 * @example
 * const signer = createJoseAccessTokenSigner(keys, { issuer: 'https://auth.pos.example', audience: 'pos-api' });
 * const { token, keyId } = await signer.sign(claims);
 */
export const createJoseAccessTokenSigner = (keys: SigningKeys, options: AccessTokenSignerOptions): AccessTokenSigner => {
  const signWith = (key: SigningKey, claims: AccessTokenClaims): Promise<string> =>
    new SignJWT({
      iss: options.issuer,
      sub: claims.userId,
      aud: options.audience,
      exp: epochSeconds(claims.expiresAt),
      iat: epochSeconds(claims.issuedAt),
      jti: claims.tokenId,
      sid: claims.sessionId,
      client_id: claims.clientId,
      role: claims.role,
      ...(claims.scope === null ? {} : { scope: claims.scope }),
    })
      .setProtectedHeader({ alg: signingAlgorithm, typ: 'at+jwt', kid: key.kid })
      .sign(key.privateKey);

  return {
    async sign(claims) {
      const key = await keys.signingKey();
      return { token: await signWith(key, claims), keyId: key.kid };
    },
    async signWith(keyId, claims) {
      const key = await keys.signingKeyById(keyId);
      return key === null ? null : signWith(key, claims);
    },
  };
};
