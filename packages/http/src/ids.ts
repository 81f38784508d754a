import { SessionId, SessionNotFoundError, UserId, UserNotFoundError } from '@pos-auth/domain';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/**
 * A user id from a path or an input. Anything but a UUID names no user: 404, the answer an unknown
 * id gets, on both transports.
 *
 * @example
 * const userId = userIdOf(req.params['id'] ?? '');
 */
export const userIdOf = (raw: string): UserId => {
  if (!uuidPattern.test(raw)) throw new UserNotFoundError();
  return UserId(raw);
};

/**
 * A session id from a path or an input: anything but a UUID names no session (404).
 *
 * @example
 * const sessionId = sessionIdOf(req.params['sid'] ?? '');
 */
export const sessionIdOf = (raw: string): SessionId => {
  if (!uuidPattern.test(raw)) throw new SessionNotFoundError();
  return SessionId(raw);
};
