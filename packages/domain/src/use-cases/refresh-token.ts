import { InvalidGrantError } from '../shared/errors.js';
import { sessionStreamId, type ClientId } from '../shared/ids.js';
import { sessionDecider } from '../session/session.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { fromHead, writeOf } from './streams.js';
import { issuedTokens, pairFor, type IssuedTokens } from './tokens.js';

export interface RefreshTokenInput {
  readonly refreshToken: string;
  /** The authenticated client when the grant came with client authentication, else null. */
  readonly clientId: ClientId | null;
}

const unknownToken = () => new InvalidGrantError('The refresh token is invalid, expired or revoked.', 'unknown_refresh_token');

/**
 * Rotates a session's refresh token (API.md, "Sessions"). The decision reads one row: the session's
 * snapshot, found by the presented token's digest. The child pair is derived from the presented
 * token, so racing refreshes of one token, on any number of instances, all decide on the same
 * child: one appends it, the others lose the version race, reload, see the presented token as the
 * parent inside the grace window, and answer with that same child. Outside the window, or for an
 * older token, the session is revoked and recorded as reused.
 */
export const refreshToken = async (deps: AuthDeps, input: RefreshTokenInput, context: RequestContext): Promise<IssuedTokens> => {
  const presented = deps.digester.digest(input.refreshToken);
  const child = deps.tokens.childOf(input.refreshToken);

  return retryOnConflict(deps, async () => {
    const found = await deps.sessions.findByRefreshTokenDigest(presented);
    if (found === null) throw unknownToken();
    const session = await fromHead(deps.eventStore, sessionDecider, sessionStreamId(found.sessionId), found.head);
    const { state } = session;
    if (state.status === 'none') throw unknownToken();
    const now = deps.clock.now();
    const pair = pairFor(deps, child, now, new Date(state.sessionExpiresAt));
    const events = sessionDecider.decide(
      {
        type: 'RefreshToken',
        data: {
          presentedRefreshTokenDigest: presented,
          presentedRefreshTokenExpiresAt: found.expiresAt.toISOString(),
          child: pair,
          clientId: input.clientId,
          userActive: found.userActive,
          rules: { reuseGraceSeconds: deps.settings.refreshReuseGraceSeconds },
          now: now.toISOString(),
        },
      },
      state,
    );
    // A replay inside the grace window: the child already issued, with its own expiry.
    if (events.length === 0 && state.status === 'active') return issuedTokens(child, state.accessTokenExpiresAt, now);

    await deps.eventStore.append([writeOf(sessionDecider, session, events)], {
      metadata: metadataFor(context, now, { clientId: state.clientId, actorUserId: state.userId }),
    });
    const rotated = events.find((event) => event.type === 'TokenRefreshed');
    if (rotated === undefined) throw new InvalidGrantError('The refresh token is invalid, expired or revoked.', 'refresh_token_reused');
    return issuedTokens(child, pair.accessTokenExpiresAt, now);
  });
};
