import { ClientId, SessionId, TokenDigest, UserId, userStreamId } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import {
  clientRegistered,
  metadata,
  newDigest,
  newSessionId,
  newUserId,
  sessionRevoked,
  tokenIssued,
  tokenRefreshed,
  userRegistered,
} from '../testing/fixtures.js';
import { createPostgresEventStore, type PostgresEventStore } from './event-store.js';
import { createPostgresReadModels, type PostgresReadModels } from './read-models.js';

let db: TestSchema;
let store: PostgresEventStore;
let read: PostgresReadModels;

beforeAll(async () => {
  // A schema of its own: the system starts empty.
  db = await createTestSchema(inject('testDatabase'), { max: 4 });
  store = createPostgresEventStore(db.pool);
  read = createPostgresReadModels(db.pool);
});
afterAll(() => db?.drop());

const ada = newUserId();
const adaRegistered = userRegistered({
  userId: ada,
  // The projection derives the login key from this: NFKC, lower-cased.
  userName: 'Ada.Lovelace',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'manager',
  registeredAt: '2024-05-01T12:00:00.123Z',
});

describe('users', () => {
  it('an empty system has no user', async () => {
    expect(await read.users.hasAnyUser()).toBe(false);
  });

  it('after a registration: credentials by name key, the user view, and hasAnyUser', async () => {
    await store.appendToStream(userStreamId(ada), [adaRegistered], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      claims: [{ kind: 'user_name', value: 'ada.lovelace' }],
      credentials: [{ kind: 'password', userId: ada, hash: '$argon2id$v=19$fake' }],
    });

    expect(await read.users.hasAnyUser()).toBe(true);
    expect(await read.users.findCredentialsByUserName('ada.lovelace')).toEqual({
      userId: ada,
      passwordHash: '$argon2id$v=19$fake',
    });
    // The key is case-folded: the display form is not a key.
    expect(await read.users.findCredentialsByUserName('Ada.Lovelace')).toBeNull();
    expect(await read.users.findCredentialsByUserName('nobody')).toBeNull();
    expect(await read.users.getUser(ada)).toEqual({
      id: ada,
      userName: 'Ada.Lovelace',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      role: 'manager',
      createdAt: '2024-05-01T12:00:00.123Z',
      updatedAt: '2024-05-01T12:00:00.123Z',
    });
    expect(await read.users.getUser(UserId('6d1f2c3e-0000-4000-8000-000000000000'))).toBeNull();
  });

  it('a user without credentials has none to find', async () => {
    const userId = newUserId();
    await store.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: 'NoPassword' })], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
    });
    expect(await read.users.findCredentialsByUserName('nopassword')).toBeNull();
  });
});

describe('sessions', () => {
  const sessionId = newSessionId();
  const issued = tokenIssued(sessionId, ada);
  const refreshed = tokenRefreshed(issued);

  beforeAll(async () => {
    await store.appendToStream(`session-${sessionId}`, [issued, refreshed], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
    });
  });

  it('finds the session of every refresh token it was issued, current or rotated away', async () => {
    expect(await read.sessions.findSessionIdByRefreshTokenDigest(issued.data.refreshTokenDigest)).toBe(sessionId);
    expect(await read.sessions.findSessionIdByRefreshTokenDigest(refreshed.data.refreshTokenDigest)).toBe(sessionId);
    expect(await read.sessions.findSessionIdByRefreshTokenDigest(newDigest())).toBeNull();
  });

  it('finds an access token with its holder, role, client and expiry', async () => {
    expect(await read.sessions.findAccessToken(refreshed.data.accessTokenDigest)).toEqual({
      userId: ada,
      role: 'manager',
      sessionId: SessionId(sessionId),
      clientId: ClientId('admin-panel'),
      expiresAt: new Date('2024-05-01T12:40:00.000Z'),
    });
    expect(await read.sessions.findAccessToken(newDigest())).toBeNull();
  });

  it('forgets the access tokens of a revoked session, not its refresh tokens', async () => {
    await store.appendToStream(`session-${sessionId}`, [sessionRevoked(sessionId, ada)], {
      expectedVersion: 2,
      metadata: metadata(),
    });
    expect(await read.sessions.findAccessToken(issued.data.accessTokenDigest)).toBeNull();
    expect(await read.sessions.findAccessToken(refreshed.data.accessTokenDigest)).toBeNull();
    expect(await read.sessions.findSessionIdByRefreshTokenDigest(refreshed.data.refreshTokenDigest)).toBe(sessionId);
  });
});

describe('clients', () => {
  it('finds the secret digest of a registered client, and nothing for another', async () => {
    const digest = TokenDigest('a'.repeat(64));
    await store.appendToStream('client-admin-panel', [clientRegistered('admin-panel')], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      credentials: [{ kind: 'client_secret', clientId: ClientId('admin-panel'), digest }],
    });
    expect(await read.clients.findClientSecretDigest(ClientId('admin-panel'))).toBe(digest);
    expect(await read.clients.findClientSecretDigest(ClientId('unknown'))).toBeNull();
  });
});
