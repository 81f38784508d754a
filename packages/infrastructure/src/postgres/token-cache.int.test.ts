import { randomUUID } from 'node:crypto';
import { ClientId, sessionStreamId, userStreamId, type DomainEvent, type SessionId, type TokenDigest, type UserId } from '@pos-auth/domain';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createPosAuthPersistence, type PosAuthPersistence } from '../persistence.js';
import { clientRegistered, metadata, newSessionId, newUserId, sessionRevoked, tokenIssued, userRegistered } from '../testing/fixtures.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { startInvalidationListener, type InvalidationListener } from './invalidation.js';
import { createPool, closePool } from './pool.js';
import { createPostgresReadModels } from './read-models.js';
import { cacheTokenChecks } from './token-cache.js';

/**
 * Two instances on one schema, each with its own pool and listener: A appends (and waits for
 * every instance's confirmation, as a service does); B's token checks go through a cache over
 * read models that count the lookups reaching the database.
 */
let db: TestSchema;
let poolB: pg.Pool;
let listenerA: InvalidationListener;
let listenerB: InvalidationListener;
let a: PosAuthPersistence;
const reads = { accessTokens: 0, clientSecrets: 0 };
let b: ReturnType<typeof cacheTokenChecks>;

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 8 });
  poolB = createPool(db.connectionString, { schema: db.schema, max: 4 });
  listenerA = await startInvalidationListener(db.pool);
  listenerB = await startInvalidationListener(poolB);
  a = await createPosAuthPersistence(db.pool, { invalidationListener: listenerA });
  const models = createPostgresReadModels(poolB);
  b = cacheTokenChecks(
    {
      sessions: {
        ...models.sessions,
        findAccessToken: (digest) => {
          reads.accessTokens += 1;
          return models.sessions.findAccessToken(digest);
        },
      },
      clients: {
        ...models.clients,
        findClientSecrets: (clientId) => {
          reads.clientSecrets += 1;
          return models.clients.findClientSecrets(clientId);
        },
      },
    },
    listenerB,
  );
});
afterAll(async () => {
  await listenerA?.stop();
  await listenerB?.stop();
  if (poolB) await closePool(poolB);
  await db?.drop();
});

const later = new Date(Date.now() + 3_600_000).toISOString();

/** A user with one session whose access token is good for an hour. */
const signedIn = async (): Promise<{ userId: UserId; sessionId: SessionId; digest: TokenDigest }> => {
  const userId = newUserId();
  const userName = `cook-${randomUUID().slice(0, 8)}`;
  await a.eventStore.appendToStream(userStreamId(userId), [userRegistered({ userId, userName, userNameKey: userName })], {
    expectedVersion: 'no_stream',
    metadata: metadata(),
  });
  const sessionId = newSessionId();
  const issued = tokenIssued(sessionId, userId);
  const event: DomainEvent = { ...issued, data: { ...issued.data, accessTokenExpiresAt: later } };
  await a.eventStore.appendToStream(sessionStreamId(sessionId), [event], { expectedVersion: 'no_stream', metadata: metadata() });
  return { userId, sessionId, digest: issued.data.accessTokenDigest };
};

const revoke = ({ sessionId, userId }: { sessionId: SessionId; userId: UserId }) =>
  a.eventStore.appendToStream(sessionStreamId(sessionId), [sessionRevoked(sessionId, userId)], { expectedVersion: 'any', metadata: metadata() });

describe('token checks cached, dropped by announcements', () => {
  it('answers a good token from memory, and an unknown one always from the database', async () => {
    const { digest } = await signedIn();
    const before = reads.accessTokens;
    const first = await b.sessions.findAccessToken(digest);
    expect(first?.holder.role).toBe('patron');
    expect(await b.sessions.findAccessToken(digest)).toEqual(first);
    expect(await b.sessions.findAccessToken(digest)).toEqual(first);
    expect(reads.accessTokens - before).toBe(1);

    const unknown = `${digest.slice(0, -4)}0000` as TokenDigest;
    expect(await b.sessions.findAccessToken(unknown)).toBeNull();
    expect(await b.sessions.findAccessToken(unknown)).toBeNull();
    expect(reads.accessTokens - before).toBe(3);
  });

  it('forgets a revoked session on the other instance before the revocation is acknowledged, every time', async () => {
    for (let round = 0; round < 20; round += 1) {
      const user = await signedIn();
      expect(await b.sessions.findAccessToken(user.digest)).not.toBeNull();
      expect(await b.sessions.findAccessToken(user.digest)).not.toBeNull();
      await revoke(user);
      // Nothing awaited between the append's answer and this check.
      expect(await b.sessions.findAccessToken(user.digest)).toBeNull();
    }
  });

  it('does not keep an answer that was read while a change was announced', async () => {
    const user = await signedIn();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const models = createPostgresReadModels(poolB);
    let lookups = 0;
    const gated = cacheTokenChecks(
      {
        sessions: {
          ...models.sessions,
          findAccessToken: async (digest) => {
            lookups += 1;
            const answer = await models.sessions.findAccessToken(digest);
            if (lookups === 1) await gate;
            return answer;
          },
        },
        clients: models.clients,
      },
      listenerB,
    );
    // Read before the revocation commits, answered after its announcement: it must not be kept.
    const reading = gated.sessions.findAccessToken(user.digest);
    await vi.waitFor(() => expect(lookups).toBe(1));
    await revoke(user);
    release();
    expect(await reading).not.toBeNull();
    expect(await gated.sessions.findAccessToken(user.digest)).toBeNull();
    expect(lookups).toBe(2);
  });

  it('caches nothing while its listener is away, and starts again once it is back', async () => {
    const user = await signedIn();
    await b.sessions.findAccessToken(user.digest);
    const { rows } = await db.pool.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
      [`pos-auth-invalidations ${db.schema}`],
    );
    expect(rows).toHaveLength(2);
    // Both listeners lose their connection: A's appends then cannot wait for anyone.
    await db.pool.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [rows.map((row) => row.pid)]);
    await vi.waitFor(() => expect(listenerB.healthy()).toBe(false), { timeout: 2_000, interval: 1 }).catch(() => undefined);
    await revoke(user);
    // Whether B's listener is still away or already back, the revoked token is not answered from memory.
    expect(await b.sessions.findAccessToken(user.digest)).toBeNull();

    await vi.waitFor(() => expect(listenerA.healthy() && listenerB.healthy()).toBe(true), { timeout: 10_000 });
    const fresh = await signedIn();
    const before = reads.accessTokens;
    await b.sessions.findAccessToken(fresh.digest);
    await b.sessions.findAccessToken(fresh.digest);
    expect(reads.accessTokens - before).toBe(1);
    await revoke(fresh);
    expect(await b.sessions.findAccessToken(fresh.digest)).toBeNull();
  });

  it("caches a client's secrets until the client's secret is rotated", async () => {
    const clientId = `pos-${randomUUID().slice(0, 8)}`;
    await a.eventStore.appendToStream(`client-${clientId}`, [clientRegistered(clientId)], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      credentials: [{ kind: 'client_secret', clientId: ClientId(clientId), digest: 'a'.repeat(64) as TokenDigest }],
    });
    const before = reads.clientSecrets;
    expect((await b.clients.findClientSecrets(ClientId(clientId)))?.current).toBe('a'.repeat(64));
    await b.clients.findClientSecrets(ClientId(clientId));
    expect(reads.clientSecrets - before).toBe(1);

    await a.eventStore.appendToStream(
      `client-${clientId}`,
      [{ type: 'ClientSecretRotated', data: { clientId, rotatedAt: new Date().toISOString(), previousSecretValidUntil: later } }],
      {
        expectedVersion: 1,
        metadata: metadata(),
        credentials: [
          { kind: 'client_secret', clientId: ClientId(clientId), digest: 'b'.repeat(64) as TokenDigest, previous: { digest: 'a'.repeat(64) as TokenDigest, validUntil: later } },
        ],
      },
    );
    expect((await b.clients.findClientSecrets(ClientId(clientId)))?.current).toBe('b'.repeat(64));
    expect(reads.clientSecrets - before).toBe(2);
  });
});
