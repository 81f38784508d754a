import { SessionNotFoundError, TokenOfAnotherClientError, UserNotFoundError } from '../shared/errors.js';
import { sessionStreamId, type ClientId, type SessionId, type UserId } from '../shared/ids.js';
import type { SessionView } from '../ports.js';
import { sessionDecider, type SessionRevocationReason } from '../session/session.js';
import type { Role } from '../user/role.js';
import { validAccessToken, requireSelfOrAdmin } from './access.js';
import { metadataFor, retryOnConflict, type AuthDeps, type Principal, type RequestContext } from './deps.js';
import { fromHead, load, writeOf } from './streams.js';

/** Ends one session (no-op when it already ended): its access and refresh tokens stop working at once. */
export const revokeSession = async (
  deps: AuthDeps,
  sessionId: SessionId,
  reason: SessionRevocationReason,
  context: RequestContext,
  who: { readonly clientId?: string | undefined; readonly actorUserId?: string | undefined } = {},
): Promise<void> =>
  retryOnConflict(deps, async () => {
    const session = await load(deps.eventStore, sessionDecider, sessionStreamId(sessionId));
    const now = deps.clock.now();
    const events = sessionDecider.decide({ type: 'RevokeSession', data: { reason, now: now.toISOString() } }, session.state);
    if (events.length === 0) return;
    await deps.eventStore.append([writeOf(sessionDecider, session, events)], { metadata: metadataFor(context, now, who) });
  });

/** Ends every active session of a user, but `except`. */
export const revokeSessionsOf = async (
  deps: AuthDeps,
  userId: UserId,
  reason: SessionRevocationReason,
  context: RequestContext,
  who: { readonly clientId?: string | undefined; readonly actorUserId?: string | undefined },
  except: SessionId | null = null,
): Promise<number> => {
  const sessions = await deps.sessions.listActiveSessions(userId, deps.clock.now());
  const ending = sessions.filter((session) => session.id !== except);
  for (const session of ending) await revokeSession(deps, session.id, reason, context, who);
  return ending.length;
};

export type LogoutScope = 'current' | 'others' | 'all';

/** `POST /auth/logout`: ends the caller's current session, their other sessions, or all of them. */
export const logout = async (deps: AuthDeps, principal: Principal, scope: LogoutScope, context: RequestContext): Promise<void> => {
  const who = { clientId: principal.clientId, actorUserId: principal.userId };
  if (scope === 'current') return revokeSession(deps, principal.sessionId, 'logout', context, who);
  await revokeSessionsOf(deps, principal.userId, 'logout', context, who, scope === 'others' ? principal.sessionId : null);
};

/**
 * RFC 7009: an access or refresh token revokes its whole session. An unknown token (never issued,
 * or pruned after its expiry) changes nothing and is answered as revoked, so that a caller learns
 * nothing from guessing; a token issued to another client is refused (`TOKEN_OF_ANOTHER_CLIENT`),
 * as §2.1 asks, since the caller holds it already.
 */
export const revokeToken = async (deps: AuthDeps, clientId: ClientId, token: string, context: RequestContext): Promise<void> => {
  const session = await deps.sessions.findSessionByTokenDigest(deps.digester.digest(token));
  if (session === null) return;
  if (session.clientId !== clientId) throw new TokenOfAnotherClientError();
  await revokeSession(deps, session.sessionId, 'revoked_by_client', context, { clientId });
};

export type Introspection =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly tokenType: 'access_token' | 'refresh_token';
      readonly clientId: ClientId;
      readonly userName: string;
      readonly userId: UserId;
      readonly sessionId: SessionId;
      readonly role: Role;
      readonly scope: string | null;
      /** Epoch seconds. */
      readonly expiresAt: number;
      readonly issuedAt: number;
    };

const epochSeconds = (instant: Date | string) => Math.floor(new Date(instant).getTime() / 1000);

/**
 * RFC 7662: whether a token is good right now, and for whom. An access token is active until its
 * `expires_at` while its session and user are; a refresh token while it is its session's current
 * one, unexpired, and the user active. Anything else is only `{ active: false }`.
 */
export const introspect = async (deps: AuthDeps, token: string): Promise<Introspection> => {
  const access = await validAccessToken(deps, token);
  if (access !== null) {
    return {
      active: true,
      tokenType: 'access_token',
      clientId: access.clientId,
      userName: access.holder.userName,
      userId: access.holder.id,
      sessionId: access.sessionId,
      role: access.holder.role,
      scope: access.scope,
      expiresAt: epochSeconds(access.expiresAt),
      issuedAt: epochSeconds(access.issuedAt),
    };
  }
  const digest = deps.digester.digest(token);
  const found = await deps.sessions.findByRefreshTokenDigest(digest);
  if (found === null || !found.userActive) return { active: false };
  const { state } = await fromHead(deps.eventStore, sessionDecider, sessionStreamId(found.sessionId), found.head);
  const now = deps.clock.now().getTime();
  if (
    state.status !== 'active' ||
    state.refreshTokenDigest !== digest ||
    now >= Date.parse(state.refreshTokenExpiresAt) ||
    now >= Date.parse(state.sessionExpiresAt)
  ) {
    return { active: false };
  }
  return {
    active: true,
    tokenType: 'refresh_token',
    clientId: state.clientId,
    userName: found.userName,
    userId: state.userId,
    sessionId: state.sessionId,
    role: found.role,
    scope: found.scope,
    expiresAt: epochSeconds(state.refreshTokenExpiresAt),
    issuedAt: epochSeconds(found.issuedAt),
  };
};

/** A session as its owner sees it: `current` marks the one the caller's access token belongs to. */
export interface SessionListing extends SessionView {
  readonly current: boolean;
}

/** The active sessions of a user, newest first: their own, or anyone's for an admin (404 for no such user). */
export const listSessions = async (deps: AuthDeps, principal: Principal, userId: UserId): Promise<SessionListing[]> => {
  requireSelfOrAdmin(principal, userId, 'list the sessions');
  if (userId !== principal.userId && (await deps.users.getUser(userId)) === null) throw new UserNotFoundError();
  const sessions = await deps.sessions.listActiveSessions(userId, deps.clock.now());
  return sessions.map((session) => ({ ...session, current: session.id === principal.sessionId }));
};

/** Ends one of a user's sessions: their own, or anyone's for an admin. */
export const endSession = async (
  deps: AuthDeps,
  principal: Principal,
  userId: UserId,
  sessionId: SessionId,
  context: RequestContext,
): Promise<void> => {
  requireSelfOrAdmin(principal, userId, 'end the sessions');
  const sessions = await deps.sessions.listActiveSessions(userId, deps.clock.now());
  if (!sessions.some((session) => session.id === sessionId)) throw new SessionNotFoundError();
  const reason = principal.userId === userId ? 'logout' : 'revoked_by_admin';
  await revokeSession(deps, sessionId, reason, context, { clientId: principal.clientId, actorUserId: principal.userId });
};
