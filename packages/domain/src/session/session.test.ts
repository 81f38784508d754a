import { describe, expect, it } from 'vitest';
import { InvalidGrantError } from '../shared/errors.js';
import { ClientId, SessionId, TokenDigest, UserId } from '../shared/ids.js';
import { decide, evolve, initialSession, type SessionCommand, type SessionEvent, type TokenIssued } from './session.js';

const sessionId = SessionId('5f0c2d3e-0000-4000-8000-000000000001');
const userId = UserId('5f0c2d3e-0000-4000-8000-000000000002');
const client = ClientId('admin-panel');

const issued: TokenIssued = {
  type: 'TokenIssued',
  data: {
    sessionId,
    userId,
    clientId: client,
    grantType: 'password',
    scope: null,
    issuedAt: '2026-01-01T00:00:00.000Z',
    accessTokenDigest: TokenDigest('a1'),
    accessTokenExpiresAt: '2026-01-01T00:30:00.000Z',
    refreshTokenDigest: TokenDigest('r1'),
    refreshTokenExpiresAt: '2026-01-15T00:00:00.000Z',
  },
};

const given = (...events: SessionEvent[]) => events.reduce(evolve, initialSession);

const refresh = (overrides: Partial<Extract<SessionCommand, { type: 'RefreshToken' }>['data']> = {}): SessionCommand => ({
  type: 'RefreshToken',
  data: {
    presentedRefreshTokenDigest: TokenDigest('r1'),
    clientId: null,
    now: '2026-01-01T01:00:00.000Z',
    accessTokenDigest: TokenDigest('a2'),
    accessTokenExpiresAt: '2026-01-01T01:30:00.000Z',
    refreshTokenDigest: TokenDigest('r2'),
    refreshTokenExpiresAt: '2026-01-15T01:00:00.000Z',
    ...overrides,
  },
});

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
    expect(decide(refresh(), given(issued))).toEqual([
      {
        type: 'TokenRefreshed',
        data: {
          sessionId,
          userId,
          clientId: client,
          previousRefreshTokenDigest: 'r1',
          accessTokenDigest: 'a2',
          accessTokenExpiresAt: '2026-01-01T01:30:00.000Z',
          refreshTokenDigest: 'r2',
          refreshTokenExpiresAt: '2026-01-15T01:00:00.000Z',
          refreshedAt: '2026-01-01T01:00:00.000Z',
        },
      },
    ]);
  });

  it('accepts the authenticated client the session belongs to', () => {
    expect(decide(refresh({ clientId: client }), given(issued))).toHaveLength(1);
  });

  const [rotated] = decide(refresh(), given(issued));
  const revoked: SessionEvent = {
    type: 'SessionRevoked',
    data: { sessionId, userId, reason: 'logout', revokedAt: '2026-01-01T00:10:00.000Z' },
  };

  it.each([
    ['an already-used refresh token', refresh(), given(issued, rotated!), 'refresh_token_reused'],
    ['a refresh token of another session', refresh({ presentedRefreshTokenDigest: TokenDigest('zz') }), given(issued), 'refresh_token_reused'],
    ['an expired refresh token (at the instant)', refresh({ now: '2026-01-15T00:00:00.000Z' }), given(issued), 'refresh_token_expired'],
    ['a revoked session', refresh(), given(issued, revoked), 'session_revoked'],
    ['another client', refresh({ clientId: ClientId('other') }), given(issued), 'client_mismatch'],
    ['no session', refresh(), initialSession, 'unknown_session'],
  ])('refuses %s with invalid_grant', (_, command, state, reason) => {
    expect(refusal(command, state)).toBe(reason);
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
