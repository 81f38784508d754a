import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { InvalidGrantError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId, SessionId, TokenDigest, UserId } from '../shared/ids.js';

/** The digests and expiry instants of one access/refresh token pair. */
export interface TokenPair {
  readonly accessTokenDigest: TokenDigest;
  readonly accessTokenExpiresAt: string;
  readonly refreshTokenDigest: TokenDigest;
  readonly refreshTokenExpiresAt: string;
}

/** A login: starts a session. */
export type TokenIssued = DomainEvent<
  'TokenIssued',
  TokenPair & {
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
  TokenPair & {
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
  readonly sessionExpiresAt: string;
}

/**
 * What a refresh decision needs, and nothing that grows with the session's age: the current
 * refresh token, and its immediate parent with the instant it was rotated away (for the grace
 * window).
 */
export type Session =
  | { readonly status: 'none' }
  | (SessionFacts & {
      readonly status: 'active';
      readonly refreshTokenDigest: TokenDigest;
      readonly refreshTokenExpiresAt: string;
      readonly accessTokenExpiresAt: string;
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
  | { readonly type: 'StartSession'; readonly data: TokenIssued['data'] }
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
        readonly child: TokenPair;
        /** The authenticated client, when the grant came with client authentication. */
        readonly clientId: ClientId | null;
        /** False when the account was disabled: its sessions refresh no more. */
        readonly userActive: boolean;
        readonly rules: RefreshRules;
        readonly now: string;
      };
    }
  | { readonly type: 'RevokeSession'; readonly data: { readonly reason: SessionRevocationReason; readonly now: string } };

export const evolve = (state: Session, event: SessionEvent): Session => {
  switch (event.type) {
    case 'TokenIssued': {
      const { sessionId, userId, clientId, sessionExpiresAt, refreshTokenDigest, refreshTokenExpiresAt, accessTokenExpiresAt } = event.data;
      return { status: 'active', sessionId, userId, clientId, sessionExpiresAt, refreshTokenDigest, refreshTokenExpiresAt, accessTokenExpiresAt, parent: null };
    }
    case 'TokenRefreshed':
      return state.status === 'active'
        ? {
            ...state,
            refreshTokenDigest: event.data.refreshTokenDigest,
            refreshTokenExpiresAt: event.data.refreshTokenExpiresAt,
            accessTokenExpiresAt: event.data.accessTokenExpiresAt,
            parent: { refreshTokenDigest: event.data.previousRefreshTokenDigest, rotatedAt: event.data.refreshedAt },
          }
        : state;
    case 'RefreshTokenReused':
      return state;
    case 'SessionRevoked':
      return state.status === 'active'
        ? { status: 'revoked', sessionId: state.sessionId, userId: state.userId, clientId: state.clientId, sessionExpiresAt: state.sessionExpiresAt }
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
  stateSchema: 1,
};
