import { InvalidGrantError } from '../shared/errors.js';
import { sessionStreamId, type ClientId } from '../shared/ids.js';
import { decide, evolve, initialSession, type SessionEvent } from '../session/session.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { mintTokenPair, type IssuedTokens } from './tokens.js';

export interface RefreshTokenInput {
  readonly refreshToken: string;
  /** The authenticated client when the grant came with client authentication, else null. */
  readonly clientId: ClientId | null;
}

/**
 * Rotates a session's refresh token. Racing refreshes with one token append with the same
 * expected version: one wins, the others reload, see the token rotated away and get
 * `invalid_grant`.
 */
export const refreshToken = async (
  deps: AuthDeps,
  input: RefreshTokenInput,
  context: RequestContext,
): Promise<IssuedTokens> => {
  const presented = deps.digester.digest(input.refreshToken);
  const sessionId = await deps.sessions.findSessionIdByRefreshTokenDigest(presented);
  if (sessionId === null) {
    throw new InvalidGrantError('The refresh token is invalid, expired or revoked.', 'unknown_refresh_token');
  }
  const streamId = sessionStreamId(sessionId);

  return retryOnConflict(async () => {
    const { version, events: history } = await deps.eventStore.readStream<SessionEvent>(streamId);
    const state = history.reduce((session, event) => evolve(session, event as SessionEvent), initialSession);
    const now = deps.clock.now();
    const { issued, pair } = mintTokenPair(deps, now);
    const events = decide(
      {
        type: 'RefreshToken',
        data: { ...pair, presentedRefreshTokenDigest: presented, clientId: input.clientId, now: now.toISOString() },
      },
      state,
    );
    await deps.eventStore.appendToStream(streamId, events, {
      expectedVersion: version,
      metadata: metadataFor(context, now, {
        clientId: state.status === 'none' ? undefined : state.clientId,
        actorUserId: state.status === 'none' ? undefined : state.userId,
      }),
    });
    return issued;
  });
};
