import { describe, expect, it } from 'vitest';
import { ClientId, UserId, UserNameDigest } from '../shared/ids.js';
import { backoffWindowSeconds, decide, defaultBackoffPolicy, evolve, initialLoginAttempts, retryAfterSeconds, type LoginAttempts, type LoginAttemptsEvent } from './login-attempts.js';

const userNameDigest = UserNameDigest('d1');
const policy = defaultBackoffPolicy;

/** n failures, one second apart from t0. */
const failures = (n: number, userId: UserId | null = null): { events: LoginAttemptsEvent[]; state: LoginAttempts } => {
  let state = initialLoginAttempts;
  const events: LoginAttemptsEvent[] = [];
  for (let i = 0; i < n; i += 1) {
    const failedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const emitted = decide({ type: 'RecordFailedLogin', data: { userId, userNameDigest, clientId: ClientId('c'), reason: userId === null ? 'unknown_user' : 'wrong_password', failedAt, policy } }, state);
    events.push(...emitted);
    state = emitted.reduce(evolve, state);
  }
  return { events, state };
};

describe('login attempts (back-off per user name)', () => {
  it('given fewer failures than the limit, no window opens', () => {
    const { events, state } = failures(4);
    expect(events.map((e) => e.type)).toEqual(Array(4).fill('LoginFailed'));
    expect(state).toEqual({ consecutiveFailures: 4, blockedUntil: null });
    expect(retryAfterSeconds(state, new Date(Date.UTC(2026, 0, 1, 0, 0, 4)))).toBeNull();
  });

  it('given the limit-th failure, a 1 s window opens (LoginThrottled)', () => {
    const { events, state } = failures(5);
    expect(events.at(-1)).toEqual({
      type: 'LoginThrottled',
      data: { userId: null, userNameDigest, consecutiveFailures: 5, until: '2026-01-01T00:00:05.000Z', throttledAt: '2026-01-01T00:00:04.000Z' },
    });
    expect(retryAfterSeconds(state, new Date('2026-01-01T00:00:04.500Z'))).toBe(1);
    expect(retryAfterSeconds(state, new Date('2026-01-01T00:00:05.000Z'))).toBeNull();
  });

  it('doubles with each further checked failure, up to 15 minutes', () => {
    expect([4, 5, 6, 7, 8, 14, 15, 40].map((n) => backoffWindowSeconds(n, policy))).toEqual([0, 1, 2, 4, 8, 512, 900, 900]);
    expect(backoffWindowSeconds(10_000, policy)).toBe(900);
  });

  it('counts a known user name exactly as an unknown one', () => {
    const known = failures(6, UserId('u1'));
    const unknown = failures(6);
    expect(known.state).toEqual(unknown.state);
    expect(known.events.map((e) => e.type)).toEqual(unknown.events.map((e) => e.type));
  });

  it('a success after failures clears the count; with none it writes nothing', () => {
    const { state } = failures(6);
    const cleared = decide({ type: 'ClearFailedLogins', data: { userId: UserId('u1'), userNameDigest, now: '2026-01-01T01:00:00.000Z' } }, state);
    expect(cleared.map((e) => e.type)).toEqual(['FailedLoginsCleared']);
    expect(cleared.reduce(evolve, state)).toEqual(initialLoginAttempts);
    expect(decide({ type: 'ClearFailedLogins', data: { userId: UserId('u1'), userNameDigest, now: '2026-01-01T01:00:00.000Z' } }, initialLoginAttempts)).toEqual([]);
  });
});
