import { assertNever } from '../shared/assert-never.js';
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
  }
>;

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

export type SessionRevoked = DomainEvent<
  'SessionRevoked',
  {
    readonly sessionId: SessionId;
    readonly userId: UserId;
    readonly reason: string;
    readonly revokedAt: string;
  }
>;

export type SessionEvent = TokenIssued | TokenRefreshed | SessionRevoked;

interface SessionFacts {
  readonly sessionId: SessionId;
  readonly userId: UserId;
  readonly clientId: ClientId;
}

export type Session =
  | { readonly status: 'none' }
  | (SessionFacts & {
      readonly status: 'active';
      readonly refreshTokenDigest: TokenDigest;
      readonly refreshTokenExpiresAt: string;
    })
  | (SessionFacts & { readonly status: 'revoked' });

export const initialSession: Session = { status: 'none' };

export type StartSession = {
  readonly type: 'StartSession';
  readonly data: TokenIssued['data'];
};

export type RefreshToken = {
  readonly type: 'RefreshToken';
  readonly data: TokenPair & {
    readonly presentedRefreshTokenDigest: TokenDigest;
    /** The authenticated client, when the grant came with client authentication. */
    readonly clientId: ClientId | null;
    readonly now: string;
  };
};

export type RevokeSession = {
  readonly type: 'RevokeSession';
  readonly data: { readonly reason: string; readonly now: string };
};

export type SessionCommand = StartSession | RefreshToken | RevokeSession;

export const evolve = (state: Session, event: SessionEvent): Session => {
  switch (event.type) {
    case 'TokenIssued':
    case 'TokenRefreshed': {
      const { sessionId, userId, clientId, refreshTokenDigest, refreshTokenExpiresAt } = event.data;
      return { status: 'active', sessionId, userId, clientId, refreshTokenDigest, refreshTokenExpiresAt };
    }
    case 'SessionRevoked':
      return state.status === 'active'
        ? { status: 'revoked', sessionId: state.sessionId, userId: state.userId, clientId: state.clientId }
        : state;
    default:
      return assertNever(event);
  }
};

/** One message for every refused refresh, whatever the reason: the reason is for the log. */
const refused = (reason: string) => new InvalidGrantError('The refresh token is invalid, expired or revoked.', reason);

const start = (command: StartSession, state: Session): SessionEvent[] => {
  if (state.status !== 'none') throw new TypeError(`Session ${command.data.sessionId} already exists`);
  return [{ type: 'TokenIssued', data: command.data }];
};

const refresh = ({ data }: RefreshToken, state: Session): SessionEvent[] => {
  if (state.status === 'none') throw refused('unknown_session');
  if (state.status === 'revoked') throw refused('session_revoked');
  if (data.presentedRefreshTokenDigest !== state.refreshTokenDigest) throw refused('refresh_token_reused');
  if (Date.parse(data.now) >= Date.parse(state.refreshTokenExpiresAt)) throw refused('refresh_token_expired');
  if (data.clientId !== null && data.clientId !== state.clientId) throw refused('client_mismatch');
  return [
    {
      type: 'TokenRefreshed',
      data: {
        sessionId: state.sessionId,
        userId: state.userId,
        clientId: state.clientId,
        previousRefreshTokenDigest: state.refreshTokenDigest,
        accessTokenDigest: data.accessTokenDigest,
        accessTokenExpiresAt: data.accessTokenExpiresAt,
        refreshTokenDigest: data.refreshTokenDigest,
        refreshTokenExpiresAt: data.refreshTokenExpiresAt,
        refreshedAt: data.now,
      },
    },
  ];
};

const revoke = ({ data }: RevokeSession, state: Session): SessionEvent[] => {
  if (state.status !== 'active') return [];
  return [
    {
      type: 'SessionRevoked',
      data: { sessionId: state.sessionId, userId: state.userId, reason: data.reason, revokedAt: data.now },
    },
  ];
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
