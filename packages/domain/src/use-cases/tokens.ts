import type { AccessTokenClaims, AccessTokenSigner, RawTokens, SecretDigester } from '../ports.js';
import type { AccessTokenMinting, CurrentAccessToken, TokenPair } from '../session/session.js';
import type { ClientId, SessionId, UserId } from '../shared/ids.js';
import type { Role } from '../user/role.js';
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

/** Whom a pair is issued to: the session's facts and the holder's role at the issue. */
export interface TokenHolder {
  readonly userId: UserId;
  readonly sessionId: SessionId;
  readonly clientId: ClientId;
  readonly role: Role;
  readonly scope: string | null;
}

/** A pair as it is answered (`tokens`) and as it is recorded (`pair`: digests, expiries, how it was made). */
export interface MintedPair {
  readonly tokens: Pick<IssuedTokens, 'accessToken' | 'refreshToken'>;
  readonly pair: TokenPair & AccessTokenMinting;
}

type MintDeps = {
  readonly digester: SecretDigester;
  readonly accessTokenSigner: AccessTokenSigner;
  readonly settings: TokenSettings;
};

const earliest = (...instants: number[]): Date => new Date(Math.min(...instants));

const claimsOf = (tokenId: string, holder: TokenHolder, issuedAt: string, expiresAt: string): AccessTokenClaims => ({
  tokenId,
  userId: holder.userId,
  sessionId: holder.sessionId,
  clientId: holder.clientId,
  role: holder.role,
  scope: holder.scope,
  issuedAt,
  expiresAt,
});

/**
 * The pair issued at `now` from `raw` for a session that ends at `sessionEndsAt` (neither token
 * outlives the session). The access token is `raw`'s UUID (opaque), or a JWT whose `jti` is that
 * UUID, signed with the key that signs now (`settings.accessTokenFormat`).
 */
export const mintPair = async (deps: MintDeps, raw: RawTokens, holder: TokenHolder, now: Date, sessionEndsAt: Date): Promise<MintedPair> => {
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = deps.settings;
  const issuedAt = now.toISOString();
  const accessTokenExpiresAt = earliest(now.getTime() + accessTokenTtlSeconds * 1000, sessionEndsAt.getTime()).toISOString();
  const access =
    deps.settings.accessTokenFormat === 'jwt'
      ? await deps.accessTokenSigner.sign(claimsOf(raw.accessToken, holder, issuedAt, accessTokenExpiresAt))
      : { token: raw.accessToken, keyId: null };
  return {
    tokens: { accessToken: access.token, refreshToken: raw.refreshToken },
    pair: {
      accessTokenDigest: deps.digester.digest(access.token),
      accessTokenExpiresAt,
      refreshTokenDigest: deps.digester.digest(raw.refreshToken),
      refreshTokenExpiresAt: earliest(now.getTime() + refreshTokenTtlSeconds * 1000, sessionEndsAt.getTime()).toISOString(),
      role: holder.role,
      accessTokenKeyId: access.keyId,
    },
  };
};

/**
 * The access token recorded as `recorded`, made again from `raw` (the same child pair) for a
 * replay: opaque, `raw`'s UUID; a JWT, the recorded claims signed with the recorded key, whatever
 * the service is configured for now. Null when it cannot be made again exactly (its key is no
 * longer kept): a replay answers only a token whose digest was recorded.
 */
export const remintAccessToken = async (
  deps: Omit<MintDeps, 'settings'>,
  raw: RawTokens,
  holder: Omit<TokenHolder, 'role'>,
  recorded: CurrentAccessToken,
): Promise<string | null> => {
  const token =
    recorded.keyId === null || recorded.role === null
      ? raw.accessToken
      : await deps.accessTokenSigner.signWith(
          recorded.keyId,
          claimsOf(raw.accessToken, { ...holder, role: recorded.role }, recorded.issuedAt, recorded.expiresAt),
        );
  return token !== null && deps.digester.matches(token, recorded.digest) ? token : null;
};

/** The answer for `tokens`, whose access token expires at `accessTokenExpiresAt`, as seen at `now`. */
export const issuedTokens = (
  tokens: Pick<IssuedTokens, 'accessToken' | 'refreshToken'>,
  accessTokenExpiresAt: string,
  now: Date,
  scope?: string | null,
): IssuedTokens => ({
  accessToken: tokens.accessToken,
  refreshToken: tokens.refreshToken,
  tokenType: 'Bearer',
  expiresIn: Math.max(0, Math.floor((Date.parse(accessTokenExpiresAt) - now.getTime()) / 1000)),
  expiresAt: accessTokenExpiresAt,
  ...(scope === null || scope === undefined ? {} : { scope }),
});
