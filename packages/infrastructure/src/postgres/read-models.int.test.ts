import { ClientId, SessionId, TokenDigest, UserId, sessionStreamId, userStreamId } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPosAuthPersistence, type PosAuthPersistence } from '../persistence.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { clientRegistered, metadata, newDigest, newSessionId, newUserId, sessionRevoked, tokenIssued, tokenRefreshed, userRegistered } from '../testing/fixtures.js';

let db: TestSchema;
let persistence: PosAuthPersistence;

beforeAll(async () => {
  // A schema of its own: the system starts empty.
  db = await createTestSchema(inject('testDatabase'), { max: 4 });
  persistence = await createPosAuthPersistence(db.pool);
});
afterAll(() => db?.drop());

const ada = newUserId();
const adaRegistered = userRegistered({
  userId: ada,
  userName: 'Ada.Lovelace',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'manager',
  registeredAt: '2024-05-01T12:00:00.123Z',
});
const attemptsOf = (name: string) => `login-attempts-${name}`;

describe('users', () => {
  it('an empty system has no user', async () => {
    expect(await persistence.users.hasAnyUser()).toBe(false);
  });

  it('after a registration: the login candidate by name key, the user view, and hasAnyUser', async () => {
    await persistence.eventStore.appendToStream(userStreamId(ada), [adaRegistered], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      claims: [{ kind: 'user_name', value: 'ada.lovelace' }],
      credentials: [{ kind: 'password', userId: ada, hash: '$argon2id$v=19$fake' }],
    });

    expect(await persistence.users.hasAnyUser()).toBe(true);
    expect(await persistence.users.findLoginCandidate('ada.lovelace', attemptsOf('x'))).toEqual({
      account: { userId: ada, passwordHash: '$argon2id$v=19$fake', disabled: false, role: 'manager' },
      attempts: { version: 0, snapshot: null },
    });
    // The key is case-folded: the display form is not a key.
    expect((await persistence.users.findLoginCandidate('Ada.Lovelace', attemptsOf('x'))).account).toBeNull();
    expect((await persistence.users.findLoginCandidate(null, attemptsOf('x'))).account).toBeNull();
    expect(await persistence.users.getUser(ada)).toEqual({
      id: ada,
      userName: 'Ada.Lovelace',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      role: 'manager',
      disabled: false,
      createdAt: '2024-05-01T12:00:00.123Z',
      updatedAt: '2024-05-01T12:00:00.123Z',
    });
    expect(await persistence.users.getUser(UserId('6d1f2c3e-0000-4000-8000-000000000000'))).toBeNull();
    expect(await persistence.users.findPasswordHash(ada)).toBe('$argon2id$v=19$fake');
  });

  it('reads the back-off stream head in the same query', async () => {
    const streamId = attemptsOf('with-head');
    await persistence.eventStore.append(
      [{ streamId, events: [{ type: 'LoginFailed', data: { userId: null } }], expectedVersion: 'no_stream', snapshot: { schema: 1, state: { consecutiveFailures: 1, blockedUntil: null } } }],
      { metadata: metadata() },
    );
    expect((await persistence.users.findLoginCandidate(null, streamId)).attempts).toEqual({
      version: 1,
      snapshot: { schema: 1, version: 1, state: { consecutiveFailures: 1, blockedUntil: null } },
    });
  });

  it('a user without credentials is no login candidate', async () => {
    const userId = newUserId();
    await persistence.eventStore.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: 'NoPassword' })], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
    });
    expect((await persistence.users.findLoginCandidate('nopassword', attemptsOf('x'))).account).toBeNull();
  });

  it('lists users by user name in cursor pages, with filters', async () => {
    for (const [name, role] of [['bob', 'chef'], ['Bea', 'patron'], ['carl', 'chef'], ['b_x', 'patron']] as const) {
      const userId = newUserId();
      await persistence.eventStore.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: name, role })], { expectedVersion: 'no_stream', metadata: metadata() });
    }
    const walk = async (query: { role?: 'chef'; userNamePrefix?: string }) => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof persistence.users.listUsers>> = await persistence.users.listUsers({ limit: 2, cursor, ...query });
        names.push(...page.items.map((user) => user.userName));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return names;
    };
    expect(await walk({})).toEqual(['Ada.Lovelace', 'b_x', 'Bea', 'bob', 'carl', 'NoPassword']);
    expect(await walk({ role: 'chef' })).toEqual(['bob', 'carl']);
    // LIKE's wildcards in a prefix are matched as typed.
    expect(await walk({ userNamePrefix: 'b_' })).toEqual(['b_x']);
    await expect(persistence.users.listUsers({ limit: 2, cursor: 'not a cursor!' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'cursor', message: 'is not a cursor of this service' }],
    });
  });
});

describe('sessions', () => {
  const sessionId = newSessionId();
  const issued = tokenIssued(sessionId, ada);
  const refreshed = tokenRefreshed(issued);

  beforeAll(async () => {
    await persistence.eventStore.appendToStream(sessionStreamId(sessionId), [issued, refreshed], {
      expectedVersion: 'no_stream',
      metadata: metadata({ ip: '198.51.100.4', userAgent: 'pos-terminal/1.0' }),
    });
  });

  it('finds the session of every refresh token it was issued, current or rotated away, with what a refresh decides on', async () => {
    for (const [digest, issuedAt, expiresAt] of [
      [issued.data.refreshTokenDigest, issued.data.issuedAt, issued.data.refreshTokenExpiresAt],
      [refreshed.data.refreshTokenDigest, refreshed.data.refreshedAt, refreshed.data.refreshTokenExpiresAt],
    ] as const) {
      expect(await persistence.sessions.findByRefreshTokenDigest(digest)).toEqual({
        sessionId,
        head: { version: 2, snapshot: null },
        userActive: true,
        userName: 'Ada.Lovelace',
        role: 'manager',
        scope: null,
        issuedAt: new Date(issuedAt),
        expiresAt: new Date(expiresAt),
      });
    }
    expect(await persistence.sessions.findByRefreshTokenDigest(newDigest())).toBeNull();
  });

  it('finds an access token with its holder (the user resource, as it is now), client and expiry', async () => {
    expect(await persistence.sessions.findAccessToken(refreshed.data.accessTokenDigest)).toEqual({
      holder: await persistence.users.getUser(ada),
      sessionId: SessionId(sessionId),
      clientId: ClientId('admin-panel'),
      scope: null,
      issuedAt: new Date('2024-05-01T12:10:00.000Z'),
      expiresAt: new Date('2024-05-01T12:40:00.000Z'),
    });
    expect(await persistence.sessions.findAccessToken(newDigest())).toBeNull();
  });

  it('lists active sessions with where they came from', async () => {
    expect(await persistence.sessions.listActiveSessions(ada, new Date('2024-05-02T00:00:00.000Z'))).toEqual([
      {
        id: sessionId,
        userId: ada,
        clientId: 'admin-panel',
        createdAt: '2024-05-01T12:00:00.000Z',
        lastRefreshedAt: '2024-05-01T12:10:00.000Z',
        expiresAt: '2024-05-15T12:10:00.000Z',
        ip: '198.51.100.4',
        userAgent: 'pos-terminal/1.0',
      },
    ]);
    // Past its refresh token's expiry, a session is no longer listed.
    expect(await persistence.sessions.listActiveSessions(ada, new Date('2024-05-15T12:10:00.000Z'))).toEqual([]);
  });

  it('refuses the access tokens of a revoked session at once, and still knows its refresh tokens', async () => {
    await persistence.eventStore.appendToStream(sessionStreamId(sessionId), [sessionRevoked(sessionId, ada)], { expectedVersion: 2, metadata: metadata() });
    expect(await persistence.sessions.findAccessToken(issued.data.accessTokenDigest)).toBeNull();
    expect(await persistence.sessions.findAccessToken(refreshed.data.accessTokenDigest)).toBeNull();
    expect((await persistence.sessions.findByRefreshTokenDigest(refreshed.data.refreshTokenDigest))?.sessionId).toBe(sessionId);
    expect(await persistence.sessions.findSessionByTokenDigest(issued.data.accessTokenDigest)).toEqual({ sessionId, clientId: 'admin-panel' });
    expect(await persistence.sessions.findSessionByTokenDigest(refreshed.data.refreshTokenDigest)).toEqual({ sessionId, clientId: 'admin-panel' });
    expect(await persistence.sessions.listActiveSessions(ada, new Date('2024-05-02T00:00:00.000Z'))).toEqual([]);
  });
});

describe('clients', () => {
  it('finds the secret digests of a registered client, and nothing for another', async () => {
    const digest = TokenDigest('a'.repeat(64));
    await persistence.eventStore.appendToStream('client-admin-panel', [clientRegistered('admin-panel')], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      credentials: [{ kind: 'client_secret', clientId: ClientId('admin-panel'), digest }],
    });
    expect(await persistence.clients.findClientSecrets(ClientId('admin-panel'))).toEqual({ current: digest, previous: null });
    expect(await persistence.clients.findClientSecrets(ClientId('unknown'))).toBeNull();
    expect(await persistence.clients.listClients()).toEqual([{ clientId: 'admin-panel', registeredAt: '2024-05-01T11:00:00.000Z', secretRotatedAt: null }]);
  });

  it('after a rotation: the new digest, the replaced one with the end of its overlap, and when it happened', async () => {
    const [old, fresh] = [TokenDigest('a'.repeat(64)), TokenDigest('b'.repeat(64))];
    await persistence.eventStore.appendToStream(
      'client-admin-panel',
      [{ type: 'ClientSecretRotated', data: { clientId: ClientId('admin-panel'), rotatedAt: '2024-05-02T00:00:00.000Z', previousSecretValidUntil: '2024-05-03T00:00:00.000Z' } }],
      {
        expectedVersion: 1,
        metadata: metadata(),
        credentials: [{ kind: 'client_secret', clientId: ClientId('admin-panel'), digest: fresh, previous: { digest: old, validUntil: '2024-05-03T00:00:00.000Z' } }],
      },
    );
    expect(await persistence.clients.findClientSecrets(ClientId('admin-panel'))).toEqual({
      current: fresh,
      previous: { digest: old, validUntil: new Date('2024-05-03T00:00:00.000Z') },
    });
    expect((await persistence.clients.listClients())[0]?.secretRotatedAt).toBe('2024-05-02T00:00:00.000Z');
  });
});
