import type { RawTokens, SecretDigester } from '../ports.js';
import type { TokenPair } from '../session/session.js';
import type { TokenSettings } from './deps.js';

/** What a token endpoint answers. The raw tokens exist here and in the response only. */
export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  /** Whole seconds until `expiresAt`, counted at the answer. */
  readonly expiresIn: number;
  readonly expiresAt: string;
  readonly scope?: string | undefined;
}

const earliest = (...instants: number[]): Date => new Date(Math.min(...instants));

/**
 * The digests and expiries of a pair issued at `now` for a session that ends at `sessionEndsAt`:
 * neither token outlives the session.
 */
export const pairFor = (
  deps: { readonly digester: SecretDigester; readonly settings: TokenSettings },
  raw: RawTokens,
  now: Date,
  sessionEndsAt: Date,
): TokenPair => {
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = deps.settings;
  return {
    accessTokenDigest: deps.digester.digest(raw.accessToken),
    accessTokenExpiresAt: earliest(now.getTime() + accessTokenTtlSeconds * 1000, sessionEndsAt.getTime()).toISOString(),
    refreshTokenDigest: deps.digester.digest(raw.refreshToken),
    refreshTokenExpiresAt: earliest(now.getTime() + refreshTokenTtlSeconds * 1000, sessionEndsAt.getTime()).toISOString(),
  };
};

/** The answer for `raw`, whose access token expires at `accessTokenExpiresAt`, as seen at `now`. */
export const issuedTokens = (raw: RawTokens, accessTokenExpiresAt: string, now: Date, scope?: string | null): IssuedTokens => ({
  accessToken: raw.accessToken,
  refreshToken: raw.refreshToken,
  tokenType: 'Bearer',
  expiresIn: Math.max(0, Math.floor((Date.parse(accessTokenExpiresAt) - now.getTime()) / 1000)),
  expiresAt: accessTokenExpiresAt,
  ...(scope === null || scope === undefined ? {} : { scope }),
});
