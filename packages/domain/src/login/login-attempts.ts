import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId, UserId, UserNameDigest } from '../shared/ids.js';

/**
 * A password login that failed. The typed user name is never stored: the event names the account
 * when the name matched one, and always the keyed hash of the normalized name, which an audit query
 * by user name can match.
 */
export type LoginFailed = DomainEvent<
  'LoginFailed',
  {
    readonly userId: UserId | null;
    readonly userNameDigest: UserNameDigest;
    readonly clientId: ClientId;
    readonly reason: 'unknown_user' | 'wrong_password' | 'account_disabled';
    /** Consecutive failures for this user name, this one included. */
    readonly consecutiveFailures: number;
    readonly failedAt: string;
  }
>;

/** A back-off window opened: logins for this user name are refused until `until`. */
export type LoginThrottled = DomainEvent<
  'LoginThrottled',
  {
    readonly userId: UserId | null;
    readonly userNameDigest: UserNameDigest;
    readonly consecutiveFailures: number;
    readonly until: string;
    readonly throttledAt: string;
  }
>;

/** A successful login after failures: the count starts again from zero. */
export type FailedLoginsCleared = DomainEvent<
  'FailedLoginsCleared',
  { readonly userId: UserId; readonly userNameDigest: UserNameDigest; readonly clearedAt: string }
>;

export type LoginAttemptsEvent = LoginFailed | LoginThrottled | FailedLoginsCleared;

/** The back-off state of one user name, known or not. */
export interface LoginAttempts {
  readonly consecutiveFailures: number;
  /** ISO instant until which logins are refused unchecked; null when no window is open. */
  readonly blockedUntil: string | null;
}

export const initialLoginAttempts: LoginAttempts = { consecutiveFailures: 0, blockedUntil: null };

export interface BackoffPolicy {
  /** Consecutive failures that open the first window (`LOGIN_FAILURE_LIMIT`, default 5). */
  readonly failureLimit: number;
  /** The longest window, in seconds (15 minutes). */
  readonly maxWindowSeconds: number;
}

export const defaultBackoffPolicy: BackoffPolicy = { failureLimit: 5, maxWindowSeconds: 15 * 60 };

/**
 * The window after the `failures`-th consecutive failure: none below the limit, 1 s at the limit,
 * doubling with each further failure, up to the maximum.
 */
export const backoffWindowSeconds = (failures: number, policy: BackoffPolicy): number => {
  if (failures < policy.failureLimit) return 0;
  const doublings = failures - policy.failureLimit;
  // 2^30 s is beyond any sensible cap: stop doubling there rather than overflow.
  return Math.min(2 ** Math.min(doublings, 30), policy.maxWindowSeconds);
};

/** Whole seconds until the window ends (at least 1), or null when logins are not refused at `now`. */
export const retryAfterSeconds = (state: LoginAttempts, now: Date): number | null => {
  if (state.blockedUntil === null) return null;
  const remaining = Date.parse(state.blockedUntil) - now.getTime();
  return remaining > 0 ? Math.ceil(remaining / 1000) : null;
};

export type LoginAttemptsCommand =
  | {
      readonly type: 'RecordFailedLogin';
      readonly data: Omit<LoginFailed['data'], 'consecutiveFailures'> & { readonly policy: BackoffPolicy };
    }
  | {
      readonly type: 'ClearFailedLogins';
      readonly data: { readonly userId: UserId; readonly userNameDigest: UserNameDigest; readonly now: string };
    };

export const evolve = (state: LoginAttempts, event: LoginAttemptsEvent): LoginAttempts => {
  switch (event.type) {
    case 'LoginFailed':
      return { ...state, consecutiveFailures: event.data.consecutiveFailures };
    case 'LoginThrottled':
      return { ...state, blockedUntil: event.data.until };
    case 'FailedLoginsCleared':
      return initialLoginAttempts;
    default:
      return assertNever(event);
  }
};

export const decide = (command: LoginAttemptsCommand, state: LoginAttempts): LoginAttemptsEvent[] => {
  switch (command.type) {
    case 'RecordFailedLogin': {
      const { policy, ...failure } = command.data;
      const consecutiveFailures = state.consecutiveFailures + 1;
      const events: LoginAttemptsEvent[] = [{ type: 'LoginFailed', data: { ...failure, consecutiveFailures } }];
      const window = backoffWindowSeconds(consecutiveFailures, policy);
      if (window > 0) {
        const until = new Date(Date.parse(failure.failedAt) + window * 1000).toISOString();
        events.push({
          type: 'LoginThrottled',
          data: { userId: failure.userId, userNameDigest: failure.userNameDigest, consecutiveFailures, until, throttledAt: failure.failedAt },
        });
      }
      return events;
    }
    case 'ClearFailedLogins':
      if (state.consecutiveFailures === 0 && state.blockedUntil === null) return [];
      return [{ type: 'FailedLoginsCleared', data: { userId: command.data.userId, userNameDigest: command.data.userNameDigest, clearedAt: command.data.now } }];
    default:
      return assertNever(command);
  }
};

export const loginAttemptsDecider: Decider<LoginAttemptsCommand, LoginAttemptsEvent, LoginAttempts> = {
  initialState: initialLoginAttempts,
  evolve,
  decide,
  stateSchema: 1,
};
