import { ForbiddenError, InvalidTokenError, UserNotFoundError } from '../shared/errors.js';
import type { UserId } from '../shared/ids.js';
import type { AccessTokenView, UserView } from '../ports.js';
import type { AuthDeps, Principal } from './deps.js';

/**
 * The access token's record when it is good at this instant: known, of an active session of an
 * active user, and before its `expires_at` (not a moment after). Null otherwise.
 */
export const validAccessToken = async (
  deps: Pick<AuthDeps, 'sessions' | 'digester' | 'clock'>,
  accessToken: string,
): Promise<AccessTokenView | null> => {
  const token = await deps.sessions.findAccessToken(deps.digester.digest(accessToken));
  if (token === null || deps.clock.now().getTime() >= token.expiresAt.getTime()) return null;
  return token;
};

/** Resolves a bearer access token to its holder, or refuses it (`INVALID_TOKEN`). */
export const authenticateAccessToken = async (
  deps: Pick<AuthDeps, 'sessions' | 'digester' | 'clock'>,
  accessToken: string,
): Promise<Principal> => {
  const token = await validAccessToken(deps, accessToken);
  if (token === null) throw new InvalidTokenError();
  return principalOf(token);
};

const principalOf = (token: AccessTokenView): Principal => ({
  userId: token.holder.id,
  role: token.holder.role,
  sessionId: token.sessionId,
  clientId: token.clientId,
});

/**
 * The holder of a bearer access token and their user resource, from the token check's own read:
 * `GET /users/me` in one query.
 */
export const authenticateWithUser = async (
  deps: Pick<AuthDeps, 'sessions' | 'digester' | 'clock'>,
  accessToken: string,
): Promise<{ readonly principal: Principal; readonly user: UserView }> => {
  const token = await validAccessToken(deps, accessToken);
  if (token === null) throw new InvalidTokenError();
  return { principal: principalOf(token), user: token.holder };
};

/** Admin-only operations: who may do what is decided here, not in a route. */
export const requireAdmin = (principal: Principal, what: string): void => {
  if (principal.role !== 'admin') throw new ForbiddenError(`Only an admin may ${what}.`, `role_${principal.role}`);
};

/** A user may act on their own account; an admin on any. */
export const requireSelfOrAdmin = (principal: Principal, userId: UserId, what: string): void => {
  if (principal.userId !== userId && principal.role !== 'admin') {
    throw new ForbiddenError(`Only an admin may ${what} of another account.`, `role_${principal.role}`);
  }
};

/** A user resource: the caller's own, or anyone's for an admin. */
export const getUser = async (deps: Pick<AuthDeps, 'users'>, principal: Principal, userId: UserId): Promise<UserView> => {
  requireSelfOrAdmin(principal, userId, 'read the account');
  const user = await deps.users.getUser(userId);
  if (user === null) throw new UserNotFoundError();
  return user;
};
