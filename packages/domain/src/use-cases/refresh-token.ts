import { InvalidGrantError } from '../shared/errors.js';
import { sessionStreamId, type ClientId } from '../shared/ids.js';
import type { RefreshOutcome } from '../ports.js';
import { sessionDecider, type SessionRevocationReason } from '../session/session.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { fromHead, writeOf } from './streams.js';
import { issuedTokens, mintPair, remintAccessToken, type IssuedTokens } from './tokens.js';

export interface RefreshTokenInput {
  readonly refreshToken: string;
  /** The authenticated client when the grant came with client authentication, else null. */
  readonly clientId: ClientId | null;
}

const refusedMessage = 'The refresh token is invalid, expired or revoked.';
const reuseReason: SessionRevocationReason = 'refresh_token_reused';

const refused = (reason: string) => new InvalidGrantError(refusedMessage, reason);

/**
 * Rotates a session's refresh token (API.md, "Sessions"). The decision reads one row: the session's
 * snapshot, found by the presented token's digest. The child pair is derived from the presented
 * token, so racing refreshes of one token, on any number of instances, all decide on the same
 * child: one appends it, the others lose the version race, reload, see the presented token as the
 * parent inside the grace window, and answer with that same child. Outside the window, or for an
 * older token, the session is revoked and recorded as reused. The observer is told which of these
 * happened once it is settled.
 *
 * A JWT access token depends on more than the parent (its instants, the holder's role, the
 * signing key), so a replay makes it again from what the winning rotation recorded, not from what
 * this request would have issued: the answer is byte-identical whichever instance gives it.
 */
export const refreshToken = async (deps: AuthDeps, input: RefreshTokenInput, context: RequestContext): Promise<IssuedTokens> => {
  try {
    const { outcome, tokens } = await settleRefresh(deps, input, context);
    deps.observer.refreshAttempted(outcome);
    return tokens;
  } catch (error) {
    // Reuse is refused only once the session's end is written; every other refusal writes nothing.
    if (error instanceof InvalidGrantError) deps.observer.refreshAttempted(error.reason === reuseReason ? 'reuse_detected' : 'refused');
    throw error;
  }
};

const settleRefresh = async (
  deps: AuthDeps,
  input: RefreshTokenInput,
  context: RequestContext,
): Promise<{ readonly outcome: RefreshOutcome; readonly tokens: IssuedTokens }> => {
  const presented = deps.digester.digest(input.refreshToken);
  const child = deps.tokens.childOf(input.refreshToken);

  return retryOnConflict(deps, async () => {
    const found = await deps.sessions.findByRefreshTokenDigest(presented);
    if (found === null) throw refused('unknown_refresh_token');
    const session = await fromHead(deps.eventStore, sessionDecider, sessionStreamId(found.sessionId), found.head);
    const { state } = session;
    if (state.status === 'none') throw refused('unknown_refresh_token');
    const now = deps.clock.now();
    const holder = { userId: state.userId, sessionId: state.sessionId, clientId: state.clientId, role: found.role, scope: state.scope };
    const { tokens, pair } = await mintPair(deps, child, holder, now, new Date(state.sessionExpiresAt));
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
    if (events.length === 0 && state.status === 'active') {
      const accessToken = await remintAccessToken(deps, child, holder, state.accessToken);
      if (accessToken === null) throw refused('replayed_access_token_not_reproducible');
      return { outcome: 'replayed', tokens: issuedTokens({ accessToken, refreshToken: child.refreshToken }, state.accessToken.expiresAt, now) };
    }

    await deps.eventStore.append([writeOf(sessionDecider, session, events)], {
      metadata: metadataFor(context, now, { clientId: state.clientId, actorUserId: state.userId }),
    });
    const rotated = events.find((event) => event.type === 'TokenRefreshed');
    if (rotated === undefined) throw refused(reuseReason);
    return { outcome: 'rotated', tokens: issuedTokens(tokens, pair.accessTokenExpiresAt, now) };
  });
};
