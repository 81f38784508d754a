import { InvalidGrantError, TooManyAttemptsError } from '../shared/errors.js';
import { SessionId, loginAttemptsStreamId, sessionStreamId, type ClientId, type UserId, type UserNameDigest } from '../shared/ids.js';
import { loginAttemptsDecider, retryAfterSeconds, type LoginAttempts } from '../login/login-attempts.js';
import type { LoginCandidate } from '../ports.js';
import { sessionDecider } from '../session/session.js';
import { isFieldError, normalizeUserName, userNameKeyOf } from '../user/user-name.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { fresh, fromHead, load, writeOf, type Loaded } from './streams.js';
import { issuedTokens, mintPair, type IssuedTokens } from './tokens.js';

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
 *
 * Logins for one user name take turns (`deps.loginLock`, per process): each reads the back-off
 * state the one before it left. Without that, every attempt that arrived while one was being
 * checked would pass the window check too and cost its own argon2 verify, only to be refused
 * afterwards: under a flood, a name whose window ended got a verify for each attempt in flight.
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
  return deps.loginLock.exclusive(attemptsStreamId, () => attemptLogin(deps, input, context, { userNameKey, userNameDigest, attemptsStreamId }));
};

/** One login, in its user name's turn. */
const attemptLogin = async (
  deps: AuthDeps,
  input: PasswordGrantInput,
  context: RequestContext,
  name: { readonly userNameKey: string | null; readonly userNameDigest: UserNameDigest; readonly attemptsStreamId: string },
): Promise<IssuedTokens> => {
  const { userNameKey, userNameDigest, attemptsStreamId } = name;
  const candidate: LoginCandidate = await deps.users.findLoginCandidate(userNameKey, attemptsStreamId);
  let attempts = await fromHead(deps.eventStore, loginAttemptsDecider, attemptsStreamId, candidate.attempts);
  refuseInsideWindow(deps, attempts, deps.clock.now(), 'refused unchecked');

  const { account } = candidate;
  const passwordMatches = await deps.passwordHasher.verify(account?.passwordHash ?? deps.passwordHasher.dummyHash, input.password);

  if (account === null || !passwordMatches || account.disabled) {
    const reason = account === null ? 'unknown_user' : !passwordMatches ? 'wrong_password' : 'account_disabled';
    await retryOnConflict(deps, async (retry) => {
      const now = deps.clock.now();
      if (retry > 0) {
        attempts = await load(deps.eventStore, loginAttemptsDecider, attemptsStreamId);
        refuseInsideWindow(deps, attempts, now, raced);
      }
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
    const now = deps.clock.now();
    if (retry > 0) {
      attempts = await load(deps.eventStore, loginAttemptsDecider, attemptsStreamId);
      refuseInsideWindow(deps, attempts, now, raced);
    }
    const sessionEndsAt = new Date(now.getTime() + deps.settings.sessionMaxAgeSeconds * 1000);
    const scope = input.scope ?? null;
    const holder = { userId: account.userId, sessionId, clientId: input.clientId, role: account.role, scope };
    const { tokens, pair } = await mintPair(deps, raw, holder, now, sessionEndsAt);
    const started = sessionDecider.decide(
      {
        type: 'StartSession',
        data: {
          ...pair,
          sessionId,
          userId: account.userId,
          clientId: input.clientId,
          grantType: 'password',
          scope,
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
    return issuedTokens(tokens, pair.accessTokenExpiresAt, now, scope);
  });
  deps.observer.loginAttempted('success');
  return issued;
};

const raced = 'refused after the check: concurrent failures opened the window meanwhile';

/**
 * Refuses an attempt while the user name's back-off window is open at `now`. Checked again when an
 * attempt's write lost a race to concurrent failures of the same name (on another instance, since
 * one instance gives a name's logins turns): had it been written, or answered as checked, a burst
 * of concurrent guesses would get more checked answers than the limit allows (and a right guess
 * among them would be told apart). Refused, it neither counts nor resets.
 */
const refuseInsideWindow = (deps: Pick<AuthDeps, 'observer'>, attempts: Loaded<LoginAttempts>, now: Date, how: string) => {
  const retryAfter = retryAfterSeconds(attempts.state, now);
  if (retryAfter === null) return;
  deps.observer.loginAttempted('throttled');
  throw new TooManyAttemptsError(retryAfter, `login back-off: ${how}, ${attempts.state.consecutiveFailures} consecutive failures, ${retryAfter} s left`);
};

/** A success after failures starts the count again; nothing is written when there were none. */
const clearFailures = (attempts: Loaded<LoginAttempts>, userId: UserId, userNameDigest: UserNameDigest, now: Date) => {
  const events = loginAttemptsDecider.decide({ type: 'ClearFailedLogins', data: { userId, userNameDigest, now: now.toISOString() } }, attempts.state);
  return events.length === 0 ? null : writeOf(loginAttemptsDecider, attempts, events);
};
