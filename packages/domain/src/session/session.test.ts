import { describe, expect, it } from 'vitest';
import { InvalidGrantError } from '../shared/errors.js';
import { ClientId, SessionId, TokenDigest, UserId } from '../shared/ids.js';
import {
  decide,
  evolve,
  initialSession,
  type AccessTokenMinting,
  type SessionCommand,
  type SessionEvent,
  type TokenIssued,
  type TokenPair,
} from './session.js';

const sessionId = SessionId('5f0c2d3e-0000-4000-8000-000000000001');
const userId = UserId('5f0c2d3e-0000-4000-8000-000000000002');
const client = ClientId('admin-panel');

const issued = {
  type: 'TokenIssued',
  data: {
    sessionId,
    userId,
    clientId: client,
    grantType: 'password',
    scope: null,
    issuedAt: '2026-01-01T00:00:00.000Z',
    sessionExpiresAt: '2026-01-31T00:00:00.000Z',
    accessTokenDigest: TokenDigest('a1'),
    accessTokenExpiresAt: '2026-01-01T00:30:00.000Z',
    refreshTokenDigest: TokenDigest('r1'),
    refreshTokenExpiresAt: '2026-01-15T00:00:00.000Z',
    role: 'manager',
    accessTokenKeyId: 'k1',
  },
} satisfies TokenIssued & { data: AccessTokenMinting };

const given = (...events: SessionEvent[]) => events.reduce(evolve, initialSession);

const pair = (n: number, at = '2026-01-01T01:00:00.000Z'): TokenPair & AccessTokenMinting => ({
  accessTokenDigest: TokenDigest(`a${n}`),
  accessTokenExpiresAt: new Date(Date.parse(at) + 30 * 60_000).toISOString(),
  refreshTokenDigest: TokenDigest(`r${n}`),
  refreshTokenExpiresAt: new Date(Date.parse(at) + 14 * 86_400_000).toISOString(),
  role: 'admin',
  accessTokenKeyId: `k${n}`,
});

type RefreshData = Extract<SessionCommand, { type: 'RefreshToken' }>['data'];
const refresh = (overrides: Partial<RefreshData> = {}): SessionCommand => ({
  type: 'RefreshToken',
  data: {
    presentedRefreshTokenDigest: TokenDigest('r1'),
    presentedRefreshTokenExpiresAt: issued.data.refreshTokenExpiresAt,
    child: pair(2),
    clientId: null,
    userActive: true,
    rules: { reuseGraceSeconds: 10 },
    now: '2026-01-01T01:00:00.000Z',
    ...overrides,
  },
});

/** Given r1 → r2 rotated at 01:00:00. */
const [rotated] = decide(refresh(), given(issued));
const afterRotation = given(issued, rotated!);

const refusal = (command: SessionCommand, state = given(issued)): string => {
  try {
    decide(command, state);
  } catch (error) {
    if (error instanceof InvalidGrantError) return error.reason;
    throw error;
  }
  throw new Error('expected the refresh to be refused');
};

describe('session decider', () => {
  it('given nothing, when a session starts, then TokenIssued', () => {
    expect(decide({ type: 'StartSession', data: issued.data }, initialSession)).toEqual([issued]);
  });

  it('given a session, when its current refresh token is presented, then TokenRefreshed rotating it', () => {
    expect(rotated).toEqual({
      type: 'TokenRefreshed',
      data: {
        sessionId,
        userId,
        clientId: client,
        previousRefreshTokenDigest: 'r1',
        ...pair(2),
        refreshedAt: '2026-01-01T01:00:00.000Z',
      },
    });
    expect(afterRotation).toMatchObject({ status: 'active', refreshTokenDigest: 'r2', parent: { refreshTokenDigest: 'r1', rotatedAt: '2026-01-01T01:00:00.000Z' } });
  });

  describe('the current access token, which a replay makes again', () => {
    it('is what the login recorded: its digest, instants, role and signing key', () => {
      expect(given(issued)).toMatchObject({
        scope: null,
        accessToken: { digest: 'a1', issuedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T00:30:00.000Z', role: 'manager', keyId: 'k1' },
      });
    });

    it('is, after a rotation, what the rotation recorded, issued at the rotation', () => {
      expect(afterRotation).toMatchObject({
        accessToken: { digest: 'a2', issuedAt: '2026-01-01T01:00:00.000Z', expiresAt: '2026-01-01T01:30:00.000Z', role: 'admin', keyId: 'k2' },
      });
    });

    it('has no role or key when the events predate JWT access tokens (its token is opaque)', () => {
      const { role: _role, accessTokenKeyId: _keyId, ...older } = issued.data;
      expect(given({ type: 'TokenIssued', data: older })).toMatchObject({ accessToken: { digest: 'a1', role: null, keyId: null } });
    });

    it("keeps the session's scope, for a JWT's scope claim", () => {
      expect(given({ ...issued, data: { ...issued.data, scope: 'orders' } })).toMatchObject({ scope: 'orders' });
    });
  });

  it('accepts the authenticated client the session belongs to', () => {
    expect(decide(refresh({ clientId: client }), given(issued))).toHaveLength(1);
  });

  describe('a replay of the parent inside the grace window', () => {
    it('answers the same child: no event (the caller re-derives the child from the parent)', () => {
      expect(decide(refresh({ now: '2026-01-01T01:00:09.999Z' }), afterRotation)).toEqual([]);
    });

    it('is reuse once the window has passed (at the instant)', () => {
      expect(decide(refresh({ now: '2026-01-01T01:00:10.000Z' }), afterRotation).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
    });

    it('is reuse with a grace of 0', () => {
      expect(decide(refresh({ rules: { reuseGraceSeconds: 0 } }), afterRotation).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
    });

    it('is reuse when the child was itself rotated (the grandparent is presented)', () => {
      const [again] = decide(refresh({ presentedRefreshTokenDigest: TokenDigest('r2'), presentedRefreshTokenExpiresAt: pair(2).refreshTokenExpiresAt, child: pair(3) }), afterRotation);
      const state = given(issued, rotated!, again!);
      expect(decide(refresh({ now: '2026-01-01T01:00:01.000Z' }), state).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
    });

    it('is reuse when the derived child is not the current token', () => {
      expect(decide(refresh({ child: pair(9) }), afterRotation).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
    });
  });

  it('given reuse, the events revoke the session and name the presented token', () => {
    const events = decide(refresh({ now: '2026-01-01T02:00:00.000Z' }), afterRotation);
    expect(events).toEqual([
      { type: 'RefreshTokenReused', data: { sessionId, userId, presentedRefreshTokenDigest: 'r1', detectedAt: '2026-01-01T02:00:00.000Z' } },
      { type: 'SessionRevoked', data: { sessionId, userId, reason: 'refresh_token_reused', revokedAt: '2026-01-01T02:00:00.000Z' } },
    ]);
    expect(given(issued, rotated!, ...events).status).toBe('revoked');
  });

  const revoked: SessionEvent = { type: 'SessionRevoked', data: { sessionId, userId, reason: 'logout', revokedAt: '2026-01-01T00:10:00.000Z' } };

  it.each([
    ['a refresh token of another session', refresh({ presentedRefreshTokenDigest: TokenDigest('zz') }), given(issued), 'refresh_token_reused'],
    ['an expired refresh token (at the instant)', refresh({ now: '2026-01-15T00:00:00.000Z' }), given(issued), 'refresh_token_expired'],
    ['a session past its absolute end (at the instant)', refresh({ now: '2026-01-31T00:00:00.000Z' }), afterRotation, 'session_expired'],
    ['a revoked session', refresh(), given(issued, revoked), 'session_revoked'],
    ['another client', refresh({ clientId: ClientId('other') }), given(issued), 'client_mismatch'],
    ['a disabled user', refresh({ userActive: false }), given(issued), 'user_disabled'],
    ['no session', refresh(), initialSession, 'unknown_session'],
  ])('refuses %s with invalid_grant', (_, command, state, reason) => {
    if (reason === 'refresh_token_reused') {
      expect(decide(command, state).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
      return;
    }
    expect(refusal(command, state)).toBe(reason);
  });

  it('refuses a rotated refresh token past its own expiry as expired, not as reuse: pruning its row changes no answer', () => {
    // r1 (rotated away at 01:00) expired at 2026-01-15T00:00; r2, the current token, lives on.
    expect(refusal(refresh({ now: '2026-01-15T00:00:00.000Z' }), afterRotation)).toBe('refresh_token_expired');
    expect(decide(refresh({ now: '2026-01-14T23:59:59.999Z' }), afterRotation).map((e) => e.type)).toEqual(['RefreshTokenReused', 'SessionRevoked']);
  });

  it('accepts a refresh token one millisecond before it expires', () => {
    expect(decide(refresh({ now: '2026-01-14T23:59:59.999Z' }), given(issued))).toHaveLength(1);
  });

  it('given a session, when revoked, then SessionRevoked; revoking again emits nothing', () => {
    const revoke: SessionCommand = { type: 'RevokeSession', data: { reason: 'logout', now: '2026-01-01T00:10:00.000Z' } };
    expect(decide(revoke, given(issued))).toEqual([revoked]);
    expect(decide(revoke, given(issued, revoked))).toEqual([]);
  });
});
