import { randomBytes, randomUUID } from 'node:crypto';
import {
  ClientId,
  SessionId,
  TokenDigest,
  UserId,
  UserNameDigest,
  type ClientRegistered,
  type EventMetadata,
  type LoginFailed,
  type Role,
  type SessionRevoked,
  type TokenIssued,
  type TokenRefreshed,
  type UserRegistered,
} from '@pos-auth/domain';

/** Builders of well-formed events for the infrastructure's integration tests. */

export const metadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  requestId: `req-${randomUUID()}`,
  occurredAt: '2024-05-01T12:00:00.000Z',
  clientId: 'admin-panel',
  ip: '203.0.113.7',
  userAgent: 'vitest',
  ...overrides,
});

export const newUserId = (): UserId => UserId(randomUUID());
export const newSessionId = (): SessionId => SessionId(randomUUID());
export const newDigest = (): TokenDigest => TokenDigest(randomBytes(32).toString('hex'));

export const userRegistered = (
  data: Partial<UserRegistered['data']> & { readonly userId: UserId; readonly userName: string },
): UserRegistered => ({
  type: 'UserRegistered',
  data: {
    userNameKey: data.userName.toLowerCase(),
    email: null,
    name: null,
    role: 'patron' satisfies Role,
    bootstrap: false,
    registeredAt: '2024-05-01T12:00:00.000Z',
    ...data,
  },
});

export const loginFailed = (userId: UserId | null, consecutiveFailures = 1): LoginFailed => ({
  type: 'LoginFailed',
  data: {
    userId,
    userNameDigest: UserNameDigest(randomBytes(32).toString('hex')),
    clientId: ClientId('admin-panel'),
    reason: userId === null ? 'unknown_user' : 'wrong_password',
    consecutiveFailures,
    failedAt: '2024-05-01T12:00:01.000Z',
  },
});

export const tokenIssued = (sessionId: SessionId, userId: UserId): TokenIssued => ({
  type: 'TokenIssued',
  data: {
    sessionId,
    userId,
    clientId: ClientId('admin-panel'),
    grantType: 'password',
    scope: null,
    issuedAt: '2024-05-01T12:00:00.000Z',
    sessionExpiresAt: '2024-05-31T12:00:00.000Z',
    accessTokenDigest: newDigest(),
    accessTokenExpiresAt: '2024-05-01T12:30:00.000Z',
    refreshTokenDigest: newDigest(),
    refreshTokenExpiresAt: '2024-05-15T12:00:00.000Z',
  },
});

export const tokenRefreshed = (previous: TokenIssued | TokenRefreshed): TokenRefreshed => ({
  type: 'TokenRefreshed',
  data: {
    sessionId: previous.data.sessionId,
    userId: previous.data.userId,
    clientId: previous.data.clientId,
    previousRefreshTokenDigest: previous.data.refreshTokenDigest,
    refreshedAt: '2024-05-01T12:10:00.000Z',
    accessTokenDigest: newDigest(),
    accessTokenExpiresAt: '2024-05-01T12:40:00.000Z',
    refreshTokenDigest: newDigest(),
    refreshTokenExpiresAt: '2024-05-15T12:10:00.000Z',
  },
});

export const sessionRevoked = (sessionId: SessionId, userId: UserId): SessionRevoked => ({
  type: 'SessionRevoked',
  data: { sessionId, userId, reason: 'logout', revokedAt: '2024-05-01T12:20:00.000Z' },
});

export const clientRegistered = (clientId: string): ClientRegistered => ({
  type: 'ClientRegistered',
  data: { clientId: ClientId(clientId), registeredAt: '2024-05-01T11:00:00.000Z' },
});
