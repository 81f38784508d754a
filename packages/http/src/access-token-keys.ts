import type { AccessTokenSigner, Clock, Settings } from '@pos-auth/domain';
import {
  createConfiguredSigningKeys,
  createJoseAccessTokenSigner,
  createPostgresSigningKeys,
  defaultAccessTokenAudience,
  ensureSigningKey,
  type SigningKeys,
  type StoredSigningKey,
} from '@pos-auth/infrastructure';
import type pg from 'pg';

export interface AccessTokenOptions {
  /** `iss` (`ISSUER`); default `http://localhost:3000`, the configuration's default. */
  readonly issuer?: string;
  /** `aud` (`ACCESS_TOKEN_AUDIENCE`); default `pos-api`. */
  readonly audience?: string;
  /** Keys given by configuration (`ACCESS_TOKEN_SIGNING_KEYS`); absent or null: the database's. */
  readonly configuredKeys?: readonly Omit<StoredSigningKey, 'notBefore'>[] | null;
}

export const defaultAccessTokenOptions = { issuer: 'http://localhost:3000', audience: defaultAccessTokenAudience } as const;

/**
 * The keys that sign JWT access tokens, and the signer. Without configured keys they are the
 * database's, and in JWT mode the first one is made now if there is none; in opaque mode no key
 * is made, but any kept one still signs a replay of a JWT issued before the switch.
 *
 * @example
 * const { signingKeys, accessTokenSigner } = await createAccessTokenKeys(pool, { settings, clock: systemClock });
 */
export const createAccessTokenKeys = async (
  pool: pg.Pool,
  options: AccessTokenOptions & { readonly settings: Settings; readonly clock: Clock },
): Promise<{ readonly signingKeys: SigningKeys; readonly accessTokenSigner: AccessTokenSigner }> => {
  const configured = options.configuredKeys ?? null;
  const signingKeys =
    configured === null
      ? createPostgresSigningKeys(pool, { clock: options.clock, accessTokenTtlSeconds: options.settings.accessTokenTtlSeconds })
      : createConfiguredSigningKeys(configured);
  if (configured === null && options.settings.accessTokenFormat === 'jwt') await ensureSigningKey(pool, options.clock.now());
  const accessTokenSigner = createJoseAccessTokenSigner(signingKeys, {
    issuer: options.issuer ?? defaultAccessTokenOptions.issuer,
    audience: options.audience ?? defaultAccessTokenOptions.audience,
  });
  return { signingKeys, accessTokenSigner };
};
