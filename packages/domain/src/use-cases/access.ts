import { InvalidTokenError, UserNotFoundError } from '../shared/errors.js';
import type { UserId } from '../shared/ids.js';
import type { UserView } from '../ports.js';
import type { AuthDeps, Principal } from './deps.js';

/**
 * Resolves a bearer access token to its holder. Valid until its `expires_at` and not a moment
 * after.
 */
export const authenticateAccessToken = async (
  deps: Pick<AuthDeps, 'sessions' | 'digester' | 'clock'>,
  accessToken: string,
): Promise<Principal> => {
  const token = await deps.sessions.findAccessToken(deps.digester.digest(accessToken));
  if (token === null || deps.clock.now().getTime() >= token.expiresAt.getTime()) throw new InvalidTokenError();
  return { userId: token.userId, role: token.role, sessionId: token.sessionId, clientId: token.clientId };
};

export const getUser = async (deps: Pick<AuthDeps, 'users'>, userId: UserId): Promise<UserView> => {
  const user = await deps.users.getUser(userId);
  if (user === null) throw new UserNotFoundError();
  return user;
};
