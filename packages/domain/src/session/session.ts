import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { InvalidGrantError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId, SessionId, TokenDigest, UserId } from '../shared/ids.js';
import type { Role } from '../user/role.js';

/** The digests and expiry instants of one access/refresh token pair. */
export interface TokenPair {
  readonly accessTokenDigest: TokenDigest;
  readonly accessTokenExpiresAt: string;
  readonly refreshTokenDigest: TokenDigest;
  readonly refreshTokenExpiresAt: string;
}

/**
 * What a pair's access token was made from beyond the session's own facts, recorded so that a
 * replay inside the grace window makes the very same token again, byte for byte (a JWT: the same
 * claims signed with the same key). Events written before JWT access tokens lack both fields.
 */
export interface AccessTokenMinting {
  /** The holder's role when the pair was issued: a JWT's `role` claim. */
  readonly role: Role;
  /** The `kid` of the key that signed the access token (a JWT); null for an opaque token. */
  readonly accessTokenKeyId: string | null;
}

/** A login: starts a session. */
export type TokenIssued = DomainEvent<
  'TokenIssued',
  TokenPair &
    Partial<AccessTokenMinting> & {
      readonly sessionId: SessionId;
      readonly userId: UserId;
      readonly clientId: ClientId;
      readonly grantType: 'password';
      readonly scope: string | null;
      readonly issuedAt: string;
      /** The absolute end of the session (`SESSION_MAX_AGE` after the login), whatever its refreshes. */
      readonly sessionExpiresAt: string;
    }
>;

/** A rotation: the child pair replaces the parent refresh token. */
export type TokenRefreshed = DomainEvent<
  'TokenRefreshed',
  TokenPair &
    Partial<AccessTokenMinting> & {
      readonly sessionId: SessionId;
      readonly userId: UserId;
      readonly clientId: ClientId;
      readonly previousRefreshTokenDigest: TokenDigest;
      readonly refreshedAt: string;
    }
>;

/** A rotated-away refresh token was presented outside the grace window: the session is stolen or broken. */
export type RefreshTokenReused = DomainEvent<
  'RefreshTokenReused',
  {
    readonly sessionId: SessionId;
    readonly userId: UserId;
    readonly presentedRefreshTokenDigest: TokenDigest;
    readonly detectedAt: string;
  }
>;

export type SessionRevocationReason =
  | 'logout'
  | 'revoked_by_client'
  | 'revoked_by_admin'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_disabled'
  | 'user_erased';

export type SessionRevoked = DomainEvent<
  'SessionRevoked',
  {
    readonly sessionId: SessionId;
    readonly userId: UserId;
    readonly reason: SessionRevocationReason;
    readonly revokedAt: string;
  }
>;

export type SessionEvent = TokenIssued | TokenRefreshed | RefreshTokenReused | SessionRevoked;

interface SessionFacts {
  readonly sessionId: SessionId;
  readonly userId: UserId;
  readonly clientId: ClientId;
  readonly scope: string | null;
  readonly sessionExpiresAt: string;
}

/**
 * The current access token: everything it was made from, so that a replay of the parent makes
 * it again, and its digest, so that the remade token can be checked to be the one recorded.
 * `role` is null for a pair recorded before JWT access tokens (their tokens are opaque).
 */
export interface CurrentAccessToken {
  readonly digest: TokenDigest;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly role: Role | null;
  readonly keyId: string | null;
}

/**
 * What a refresh decision needs, and nothing that grows with the session's age: the current
 * refresh token and access token, and the refresh token's immediate parent with the instant it
 * was rotated away (for the grace window).
 */
export type Session =
  | { readonly status: 'none' }
  | (SessionFacts & {
      readonly status: 'active';
      readonly refreshTokenDigest: TokenDigest;
      readonly refreshTokenExpiresAt: string;
      readonly accessToken: CurrentAccessToken;
      readonly parent: { readonly refreshTokenDigest: TokenDigest; readonly rotatedAt: string } | null;
    })
  | (SessionFacts & { readonly status: 'revoked' });

export const initialSession: Session = { status: 'none' };

/** How refreshes are judged: lifetimes come with the minted pair; these are the session's rules. */
export interface RefreshRules {
  /** Seconds after a rotation during which the parent may be presented again (0: never). */
  readonly reuseGraceSeconds: number;
}

export type SessionCommand =
  | { readonly type: 'StartSession'; readonly data: TokenIssued['data'] & AccessTokenMinting }
  | {
      readonly type: 'RefreshToken';
      readonly data: {
        readonly presentedRefreshTokenDigest: TokenDigest;
        /**
         * When the presented token expires (its own expiry, current or rotated away). Past it the
         * token is refused as expired, not judged as reuse: the same answer before and after the
         * pruning job deleted its row.
         */
        readonly presentedRefreshTokenExpiresAt: string;
        /** The pair this refresh would issue; a replay of the parent answers with it again. */
        readonly child: TokenPair & AccessTokenMinting;
        /** The authenticated client, when the grant came with client authentication. */
        readonly clientId: ClientId | null;
        /** False when the account was disabled: its sessions refresh no more. */
        readonly userActive: boolean;
        readonly rules: RefreshRules;
        readonly now: string;
      };
    }
  | { readonly type: 'RevokeSession'; readonly data: { readonly reason: SessionRevocationReason; readonly now: string } };

/** The access token of a pair issued at `issuedAt`; fields absent from older events read as null. */
const accessTokenOf = (data: TokenPair & Partial<AccessTokenMinting>, issuedAt: string): CurrentAccessToken => ({
  digest: data.accessTokenDigest,
  issuedAt,
  expiresAt: data.accessTokenExpiresAt,
  role: data.role ?? null,
  keyId: data.accessTokenKeyId ?? null,
});

export const evolve = (state: Session, event: SessionEvent): Session => {
  switch (event.type) {
    case 'TokenIssued': {
      const { sessionId, userId, clientId, scope, sessionExpiresAt, refreshTokenDigest, refreshTokenExpiresAt, issuedAt } = event.data;
      return {
        status: 'active',
        sessionId,
        userId,
        clientId,
        scope,
        sessionExpiresAt,
        refreshTokenDigest,
        refreshTokenExpiresAt,
        accessToken: accessTokenOf(event.data, issuedAt),
        parent: null,
      };
    }
    case 'TokenRefreshed':
      return state.status === 'active'
        ? {
            ...state,
            refreshTokenDigest: event.data.refreshTokenDigest,
            refreshTokenExpiresAt: event.data.refreshTokenExpiresAt,
            accessToken: accessTokenOf(event.data, event.data.refreshedAt),
            parent: { refreshTokenDigest: event.data.previousRefreshTokenDigest, rotatedAt: event.data.refreshedAt },
          }
        : state;
    case 'RefreshTokenReused':
      return state;
    case 'SessionRevoked':
      return state.status === 'active'
        ? {
            status: 'revoked',
            sessionId: state.sessionId,
            userId: state.userId,
            clientId: state.clientId,
            scope: state.scope,
            sessionExpiresAt: state.sessionExpiresAt,
          }
        : state;
    default:
      return assertNever(event);
  }
};

/** One message for every refused refresh, whatever the reason: the reason is for the log. */
const refused = (reason: string) => new InvalidGrantError('The refresh token is invalid, expired or revoked.', reason);

const start = (command: Extract<SessionCommand, { type: 'StartSession' }>, state: Session): SessionEvent[] => {
  if (state.status !== 'none') throw new TypeError(`Session ${command.data.sessionId} already exists`);
  return [{ type: 'TokenIssued', data: command.data }];
};

/**
 * Rotation with reuse detection (RFC 9700 §4.14.2) and an idempotent grace window:
 * - a token past its own expiry is refused, whichever it is: reuse is recognised until then;
 * - the current refresh token rotates: `TokenRefreshed`;
 * - its immediate parent, presented again within the grace window, is a retry after a lost
 *   response or a second tab: no event, and the caller answers with the same child (`[]`);
 * - any other token of the session is reuse: `RefreshTokenReused` and `SessionRevoked`, which the
 *   caller records before refusing, so that the thief and the victim both lose the session.
 */
const refresh = ({ data }: Extract<SessionCommand, { type: 'RefreshToken' }>, state: Session): SessionEvent[] => {
  if (state.status === 'none') throw refused('unknown_session');
  if (state.status === 'revoked') throw refused('session_revoked');
  const now = Date.parse(data.now);
  if (data.clientId !== null && data.clientId !== state.clientId) throw refused('client_mismatch');
  if (!data.userActive) throw refused('user_disabled');
  if (now >= Date.parse(state.sessionExpiresAt)) throw refused('session_expired');
  if (now >= Date.parse(data.presentedRefreshTokenExpiresAt)) throw refused('refresh_token_expired');

  if (data.presentedRefreshTokenDigest === state.refreshTokenDigest) {
    return [
      {
        type: 'TokenRefreshed',
        data: {
          sessionId: state.sessionId,
          userId: state.userId,
          clientId: state.clientId,
          previousRefreshTokenDigest: state.refreshTokenDigest,
          ...data.child,
          refreshedAt: data.now,
        },
      },
    ];
  }

  const isParent = state.parent !== null && data.presentedRefreshTokenDigest === state.parent.refreshTokenDigest;
  const inGrace = isParent && now - Date.parse(state.parent!.rotatedAt) < data.rules.reuseGraceSeconds * 1000;
  // The child derives from the parent: a replay in the window must name the current token.
  if (inGrace && data.child.refreshTokenDigest === state.refreshTokenDigest) return [];

  return [
    {
      type: 'RefreshTokenReused',
      data: { sessionId: state.sessionId, userId: state.userId, presentedRefreshTokenDigest: data.presentedRefreshTokenDigest, detectedAt: data.now },
    },
    { type: 'SessionRevoked', data: { sessionId: state.sessionId, userId: state.userId, reason: 'refresh_token_reused', revokedAt: data.now } },
  ];
};

const revoke = ({ data }: Extract<SessionCommand, { type: 'RevokeSession' }>, state: Session): SessionEvent[] => {
  if (state.status !== 'active') return [];
  return [{ type: 'SessionRevoked', data: { sessionId: state.sessionId, userId: state.userId, reason: data.reason, revokedAt: data.now } }];
};

export const decide = (command: SessionCommand, state: Session): SessionEvent[] => {
  switch (command.type) {
    case 'StartSession':
      return start(command, state);
    case 'RefreshToken':
      return refresh(command, state);
    case 'RevokeSession':
      return revoke(command, state);
    default:
      return assertNever(command);
  }
};

export const sessionDecider: Decider<SessionCommand, SessionEvent, Session> = {
  initialState: initialSession,
  evolve,
  decide,
  // 2: the current access token as a whole (`accessToken`) and the session's scope, so that a
  // replay can make a JWT access token again.
  stateSchema: 2,
};
