import { InvalidGrantError, TooManyAttemptsError } from '../shared/errors.js';
import { SessionId, loginAttemptsStreamId, sessionStreamId, type ClientId, type UserId, type UserNameDigest } from '../shared/ids.js';
import { loginAttemptsDecider, retryAfterSeconds, type LoginAttempts } from '../login/login-attempts.js';
import type { LoginCandidate } from '../ports.js';
import { sessionDecider } from '../session/session.js';
import { isFieldError, normalizeUserName, userNameKeyOf } from '../user/user-name.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { fresh, fromHead, load, writeOf, type Loaded } from './streams.js';
import { issuedTokens, pairFor, type IssuedTokens } from './tokens.js';

export interface PasswordGrantInput {
  /** Already authenticated (see `authenticateClient`). */
  readonly clientId: ClientId;
  readonly userName: string;
  readonly password: string;
  readonly scope?: string | null | undefined;
}

/** The one answer to a wrong user name, a wrong password and a disabled account. */
const wrongCredentials = (reason: string) => new InvalidGrantError('The user name or password is incorrect.', reason);

/**
 * The OAuth 2.0 password grant: checks the user's password and starts a session.
 *
 * Every typed user name, whether an account has it or not, has a back-off state in its own
 * stream (keyed by a hash of the name): after `LOGIN_FAILURE_LIMIT` consecutive failures a window
 * opens, doubling with each further checked failure, in which attempts are refused without
 * checking the password. An unknown user name costs one verify against a dummy hash and one
 * `LoginFailed`, exactly as a wrong password does, and a disabled account answers exactly like a
 * wrong password: neither the answer nor its timing tells them apart.
 */
export const issueTokenWithPassword = async (
  deps: AuthDeps,
  input: PasswordGrantInput,
  context: RequestContext,
): Promise<IssuedTokens> => {
  const normalized = normalizeUserName(input.userName);
  const userNameKey = isFieldError(normalized) ? null : normalized.key;
  // Invalid names are throttled under the same rule, by the same key any name would get.
  const userNameDigest = deps.pseudonymizer.userName(userNameKey ?? userNameKeyOf(input.userName));
  const attemptsStreamId = loginAttemptsStreamId(userNameDigest);

  const candidate: LoginCandidate = await deps.users.findLoginCandidate(userNameKey, attemptsStreamId);
  let attempts = await fromHead(deps.eventStore, loginAttemptsDecider, attemptsStreamId, candidate.attempts);
  const retryAfter = retryAfterSeconds(attempts.state, deps.clock.now());
  if (retryAfter !== null) {
    deps.observer.loginAttempted('throttled');
    throw new TooManyAttemptsError(retryAfter);
  }

  const { account } = candidate;
  const passwordMatches = await deps.passwordHasher.verify(account?.passwordHash ?? deps.passwordHasher.dummyHash, input.password);

  if (account === null || !passwordMatches || account.disabled) {
    const reason = account === null ? 'unknown_user' : !passwordMatches ? 'wrong_password' : 'account_disabled';
    await retryOnConflict(deps, async (retry) => {
      if (retry > 0) attempts = await load(deps.eventStore, loginAttemptsDecider, attemptsStreamId);
      const now = deps.clock.now();
      const events = loginAttemptsDecider.decide(
        {
          type: 'RecordFailedLogin',
          data: { userId: account?.userId ?? null, userNameDigest, clientId: input.clientId, reason, failedAt: now.toISOString(), policy: deps.settings.login },
        },
        attempts.state,
      );
      await deps.eventStore.append([writeOf(loginAttemptsDecider, attempts, events)], {
        metadata: metadataFor(context, now, { clientId: input.clientId }),
      });
    });
    deps.observer.loginAttempted('wrong_credentials');
    throw wrongCredentials(reason);
  }

  const sessionId = SessionId(deps.ids.newId());
  const raw = deps.tokens.newPair();
  const issued = await retryOnConflict(deps, async (retry) => {
    // Only the back-off stream can conflict (a failure for this name landed meanwhile).
    if (retry > 0) attempts = await load(deps.eventStore, loginAttemptsDecider, attemptsStreamId);
    const now = deps.clock.now();
    const sessionEndsAt = new Date(now.getTime() + deps.settings.sessionMaxAgeSeconds * 1000);
    const pair = pairFor(deps, raw, now, sessionEndsAt);
    const started = sessionDecider.decide(
      {
        type: 'StartSession',
        data: {
          ...pair,
          sessionId,
          userId: account.userId,
          clientId: input.clientId,
          grantType: 'password',
          scope: input.scope ?? null,
          issuedAt: now.toISOString(),
          sessionExpiresAt: sessionEndsAt.toISOString(),
        },
      },
      sessionDecider.initialState,
    );
    const cleared = clearFailures(attempts, account.userId, userNameDigest, now);
    await deps.eventStore.append(
      [writeOf(sessionDecider, fresh(sessionDecider, sessionStreamId(sessionId)), started), ...(cleared === null ? [] : [cleared])],
      { metadata: metadataFor(context, now, { clientId: input.clientId, actorUserId: account.userId }) },
    );
    return issuedTokens(raw, pair.accessTokenExpiresAt, now, input.scope);
  });
  deps.observer.loginAttempted('success');
  return issued;
};

/** A success after failures starts the count again; nothing is written when there were none. */
const clearFailures = (attempts: Loaded<LoginAttempts>, userId: UserId, userNameDigest: UserNameDigest, now: Date) => {
  const events = loginAttemptsDecider.decide({ type: 'ClearFailedLogins', data: { userId, userNameDigest, now: now.toISOString() } }, attempts.state);
  return events.length === 0 ? null : writeOf(loginAttemptsDecider, attempts, events);
};
