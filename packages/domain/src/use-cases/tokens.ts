import type { SecretDigester, TokenGenerator } from '../ports.js';
import type { TokenPair } from '../session/session.js';
import type { TokenSettings } from './deps.js';

/** What a token endpoint answers. The raw tokens exist here and in the response only. */
export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly expiresAt: string;
}

/** Mints a new access/refresh pair: the raw values for the caller, digests for the log. */
export const mintTokenPair = (
  deps: { readonly tokens: TokenGenerator; readonly digester: SecretDigester; readonly settings: TokenSettings },
  now: Date,
): { readonly issued: IssuedTokens; readonly pair: TokenPair } => {
  const accessToken = deps.tokens.accessToken();
  const refreshToken = deps.tokens.refreshToken();
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = deps.settings;
  const expiresAt = new Date(now.getTime() + accessTokenTtlSeconds * 1000).toISOString();
  return {
    issued: { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: accessTokenTtlSeconds, expiresAt },
    pair: {
      accessTokenDigest: deps.digester.digest(accessToken),
      accessTokenExpiresAt: expiresAt,
      refreshTokenDigest: deps.digester.digest(refreshToken),
      refreshTokenExpiresAt: new Date(now.getTime() + refreshTokenTtlSeconds * 1000).toISOString(),
    },
  };
};
