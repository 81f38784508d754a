import { randomUUID } from 'node:crypto';
import {
  ClaimTakenError,
  ClientId,
  normalizeUserName,
  sessionStreamId,
  userStreamId,
  WrongExpectedVersionError,
  type Claim,
  type NormalizedUserName,
} from '@pos-auth/domain';
import { DatabaseError } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import {
  clientRegistered,
  loginFailed,
  metadata,
  newDigest,
  newSessionId,
  newUserId,
  sessionRevoked,
  tokenIssued,
  tokenRefreshed,
  userRegistered,
} from '../testing/fixtures.js';
import { createPosAuthPersistence } from '../persistence.js';
import { personalDataOf } from '@pos-auth/domain';
import { createPostgresEventStore, logStart, type LogPosition, type PostgresEventStore } from './event-store.js';
import { createPostgresSubjectKeys } from './personal-data.js';
import { InMemoryTables, rowOpSql } from './projection.js';
import { clientsProjection } from './projections.js';
import { pruneExpiredRows } from './pruning.js';
import { createPool } from './pool.js';
import { rebuildProjections } from './rebuild.js';

let db: TestSchema;
let store: PostgresEventStore;

beforeAll(async () => {
  // Enough connections for every racer to hold one at once.
  db = await createTestSchema(inject('testDatabase'), { max: 32 });
  store = (await createPosAuthPersistence(db.pool)).eventStore;
});

afterAll(() => db?.drop());

const key = (userName: string): NormalizedUserName => {
  const normalized = normalizeUserName(userName);
  if ('message' in normalized) throw new Error(normalized.message);
  return normalized;
};

/** The error a promise rejects with; fails the test when it resolves. */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );

const uniqueName = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;

const count = async (sql: string, params: unknown[] = []): Promise<number> => {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS counted`, params);
  return rows[0]?.n ?? -1;
};

/** Reads the whole log from `after` to what is readable now. */
const readToEnd = async (after: LogPosition = logStart) => {
  const events = [];
  let position = after;
  for (;;) {
    const page = await store.readAll({ after: position, limit: 100 });
    events.push(...page.events);
    position = page.position;
    if (page.events.length < 100) return { events, position };
  }
};

/**
 * The end of the log once every committed event of this file is readable: another file's open
 * transaction holds back the horizon of the whole server, and a start taken before it passed
 * would see this file's earlier events again.
 */
const settledEnd = () =>
  vi.waitFor(
    async () => {
      const { events, position } = await readToEnd();
      expect(events).toHaveLength(await count('SELECT 1 FROM events'));
      return position;
    },
    { timeout: 10_000 },
  );

const registration = (userName: string) => {
  const userId = newUserId();
  const name = key(userName);
  return {
    userId,
    streamId: userStreamId(userId),
    events: [userRegistered({ userId, userName: name.display, userNameKey: name.key })],
    claims: [{ kind: 'user_name', value: name.key }] as Claim[],
  };
};

describe('appendToStream and readStream', () => {
  it('reads back what was appended, with its metadata, in stream order', async () => {
    const userId = newUserId();
    const streamId = userStreamId(userId);
    const written = [userRegistered({ userId, userName: uniqueName('alice') }), loginFailed(userId)];
    const meta = metadata({ actorUserId: 'someone' });

    const result = await store.appendToStream(streamId, written, { expectedVersion: 'no_stream', metadata: meta });
    const read = await store.readStream(streamId);

    expect(result).toEqual({ nextExpectedVersion: 2 });
    expect(read.version).toBe(2);
    expect(read.events.map(({ streamId, streamPosition, type, data, metadata }) => ({
      streamId,
      streamPosition,
      type,
      data,
      metadata,
    }))).toEqual([
      { streamId, streamPosition: 1, type: 'UserRegistered', data: written[0]?.data, metadata: meta },
      { streamId, streamPosition: 2, type: 'LoginFailed', data: written[1]?.data, metadata: meta },
    ]);
    const [first, second] = read.events;
    expect(typeof first?.globalPosition).toBe('bigint');
    expect(second?.globalPosition).toBe((first?.globalPosition ?? 0n) + 1n);
    expect(first?.recordedAt).toBeInstanceOf(Date);
  });

  it('reads an absent stream as version 0 with no events', async () => {
    await expect(store.readStream(`user-${randomUUID()}`)).resolves.toEqual({ version: 0, events: [] });
  });
});

describe('expected version', () => {
  const event = () => loginFailed(null);
  const append = (streamId: string, expectedVersion: number | 'no_stream' | 'any', events = [event()]) =>
    store.appendToStream(streamId, events, { expectedVersion, metadata: metadata() });
  const expectWrongVersion = async (append: Promise<unknown>, streamId: string, expected: string) => {
    const error = await rejectionOf(append);
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ code: 'WRONG_EXPECTED_VERSION', streamId, expected });
  };

  it('no_stream creates the stream once, then refuses', async () => {
    const streamId = `test-${randomUUID()}`;
    await expect(append(streamId, 'no_stream')).resolves.toEqual({ nextExpectedVersion: 1 });
    await expectWrongVersion(append(streamId, 'no_stream'), streamId, 'no_stream');
    expect((await store.readStream(streamId)).version).toBe(1);
  });

  it('an exact version appends only at that version; 0 means no stream yet', async () => {
    const streamId = `test-${randomUUID()}`;
    await expectWrongVersion(append(streamId, 3), streamId, '3');
    await expect(append(streamId, 0, [event(), event()])).resolves.toEqual({ nextExpectedVersion: 2 });
    await expectWrongVersion(append(streamId, 0), streamId, '0');
    await expectWrongVersion(append(streamId, 1), streamId, '1');
    await expectWrongVersion(append(streamId, 3), streamId, '3');
    await expect(append(streamId, 2)).resolves.toEqual({ nextExpectedVersion: 3 });
    const read = await store.readStream(streamId);
    expect(read.events.map((e) => e.streamPosition)).toEqual([1, 2, 3]);
  });

  it('any appends whatever the version, creating the stream when absent', async () => {
    const streamId = `test-${randomUUID()}`;
    await expect(append(streamId, 'any')).resolves.toEqual({ nextExpectedVersion: 1 });
    await expect(append(streamId, 'any', [event(), event()])).resolves.toEqual({ nextExpectedVersion: 3 });
    expect((await store.readStream(streamId)).version).toBe(3);
  });

  it('refuses an append without events as a programmer error', async () => {
    await expect(append(`test-${randomUUID()}`, 'no_stream', [])).rejects.toThrow(TypeError);
    await expect(store.append([], { metadata: metadata() })).rejects.toThrow(TypeError);
  });

  it('refuses a malformed expected version as a programmer error', async () => {
    await expect(append(`test-${randomUUID()}`, -1)).rejects.toThrow(TypeError);
    await expect(append(`test-${randomUUID()}`, 1.5)).rejects.toThrow(TypeError);
  });
});

describe('races', () => {
  it('20 concurrent appends at one expected version: exactly one wins', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 1, metadata: metadata() }),
      ),
    );

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(won).toEqual([{ status: 'fulfilled', value: { nextExpectedVersion: 2 } }]);
    expect(lost).toHaveLength(19);
    for (const reason of lost) expect(reason).toBeInstanceOf(WrongExpectedVersionError);
    expect((await store.readStream(streamId)).version).toBe(2);
    expect(await count('SELECT 1 FROM events WHERE stream_id = $1', [streamId])).toBe(2);
  });

  it('30 concurrent registrations of one user name on different streams: exactly one wins', async () => {
    const userName = uniqueName('Bob');
    const racers = Array.from({ length: 30 }, () => registration(userName));

    const outcomes = await Promise.allSettled(
      racers.map((r) =>
        store.appendToStream(r.streamId, r.events, {
          expectedVersion: 'no_stream',
          metadata: metadata(),
          claims: r.claims,
          credentials: [{ kind: 'password', userId: r.userId, hash: `hash-of-${r.userId}` }],
        }),
      ),
    );

    const winners = racers.filter((_, i) => outcomes[i]?.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(winners).toHaveLength(1);
    expect(lost).toHaveLength(29);
    for (const reason of lost) {
      expect(reason).toBeInstanceOf(ClaimTakenError);
      expect(reason).toMatchObject({ kind: 'user_name', value: key(userName).key });
    }
    const winner = winners[0];
    const streamIds = racers.map((r) => r.streamId);
    const { rows: claims } = await db.pool.query('SELECT kind, value, stream_id FROM claims WHERE value = $1', [
      key(userName).key,
    ]);
    expect(claims).toEqual([{ kind: 'user_name', value: key(userName).key, stream_id: winner?.streamId }]);
    expect(await count('SELECT 1 FROM events WHERE stream_id = ANY($1)', [streamIds])).toBe(1);
    expect(await count('SELECT 1 FROM streams WHERE stream_id = ANY($1)', [streamIds])).toBe(1);
    expect(await count('SELECT 1 FROM user_credentials WHERE user_id = ANY($1)', [racers.map((r) => r.userId)])).toBe(1);
    const { rows: users } = await db.pool.query('SELECT user_id FROM users WHERE user_name_key = $1', [
      key(userName).key,
    ]);
    expect(users).toEqual([{ user_id: winner?.userId }]);
  });
});

describe('a failed append', () => {
  it('leaves nothing behind: no event, stream row, claim, credential or projection', async () => {
    const email = `${uniqueName('carol')}@example.com`;
    const holder = registration(uniqueName('carol'));
    await store.appendToStream(holder.streamId, holder.events, {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      claims: [...holder.claims, { kind: 'email', value: email }],
    });

    // Its user name is free, its email is not: the user_name claim is inserted, then undone.
    const late = registration(uniqueName('dave'));
    const failure = store.appendToStream(late.streamId, late.events, {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      claims: [...late.claims, { kind: 'email', value: email }],
      credentials: [{ kind: 'password', userId: late.userId, hash: 'secret-hash' }],
    });

    const error = await rejectionOf(failure);
    expect(error).toBeInstanceOf(ClaimTakenError);
    expect(error).toMatchObject({ code: 'CLAIM_TAKEN', kind: 'email', value: email });
    expect(await count('SELECT 1 FROM events WHERE stream_id = $1', [late.streamId])).toBe(0);
    expect(await count('SELECT 1 FROM streams WHERE stream_id = $1', [late.streamId])).toBe(0);
    expect(await count('SELECT 1 FROM claims WHERE stream_id = $1', [late.streamId])).toBe(0);
    expect(await count('SELECT 1 FROM user_credentials WHERE user_id = $1', [late.userId])).toBe(0);
    expect(await count('SELECT 1 FROM users WHERE user_id = $1', [late.userId])).toBe(0);
    // The stream is still free: the same append without the taken email goes through.
    await expect(
      store.appendToStream(late.streamId, late.events, { expectedVersion: 'no_stream', metadata: metadata(), claims: late.claims }),
    ).resolves.toEqual({ nextExpectedVersion: 1 });
  });

  it('reports the first taken claim in the order the caller gave', async () => {
    const email = `${uniqueName('erin')}@example.com`;
    const holder = registration(uniqueName('erin'));
    const claims: Claim[] = [...holder.claims, { kind: 'email', value: email }];
    await store.appendToStream(holder.streamId, holder.events, { expectedVersion: 'no_stream', metadata: metadata(), claims });

    const other = registration('unused');
    const append = (ordered: Claim[]) =>
      store.appendToStream(other.streamId, other.events, { expectedVersion: 'no_stream', metadata: metadata(), claims: ordered });
    const first = await rejectionOf(append(claims));
    expect(first).toBeInstanceOf(ClaimTakenError);
    expect(first).toMatchObject({ kind: 'user_name', value: claims[0]?.value });
    const reversed = await rejectionOf(append([...claims].reverse()));
    expect(reversed).toBeInstanceOf(ClaimTakenError);
    expect(reversed).toMatchObject({ kind: 'email', value: email });
  });
});

describe('the log is append-only', () => {
  beforeAll(async () => {
    // Row triggers fire only for rows a statement touches: make sure there are some.
    await store.appendToStream(`test-${randomUUID()}`, [loginFailed(null)], { expectedVersion: 'any', metadata: metadata() });
  });

  it.each([
    ['UPDATE', "UPDATE events SET type = 'Tampered'"],
    ['DELETE', 'DELETE FROM events'],
    ['TRUNCATE', 'TRUNCATE events'],
  ])('refuses %s on events', async (operation, sql) => {
    const before = await count('SELECT 1 FROM events');
    const error = await rejectionOf(db.pool.query(sql));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({
      code: '23001',
      message: `the event log is append-only: ${operation} on events is not allowed`,
    });
    expect(await count('SELECT 1 FROM events')).toBe(before);
    expect(before).toBeGreaterThan(0);
  });
});

describe('readAll', () => {
  it('returns the log in commit order, page by page, and resumes after its position', async () => {
    const start = await settledEnd();
    const streams = [`test-${randomUUID()}`, `test-${randomUUID()}`, `test-${randomUUID()}`];
    for (const streamId of streams) {
      await store.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });
    }

    // On a shared server another test's open transaction can hold the horizon back a moment.
    const firstPage = await vi.waitFor(
      async () => {
        const page = await store.readAll({ after: start, limit: 2 });
        expect(page.events).toHaveLength(2);
        return page;
      },
      { timeout: 10_000 },
    );
    const secondPage = await vi.waitFor(
      async () => {
        const page = await store.readAll({ after: firstPage.position, limit: 2 });
        expect(page.events).toHaveLength(1);
        return page;
      },
      { timeout: 10_000 },
    );

    expect([...firstPage.events, ...secondPage.events].map((e) => e.streamId)).toEqual(streams);
    expect(firstPage.position).toEqual(firstPage.events[1]?.logPosition);
    expect(secondPage.position).toEqual(secondPage.events[0]?.logPosition);
    const empty = await store.readAll({ after: secondPage.position });
    expect(empty).toEqual({ events: [], position: secondPage.position });
  });

  it(
    'does not pass a transaction that began earlier and commits later (two connections)',
    async () => {
      const start = await settledEnd();
      const earlyStream = `test-${randomUUID()}`;
      const lateStream = `test-${randomUUID()}`;

      const early = await db.pool.connect();
      try {
        await early.query('BEGIN');
        // Written first (lower global position and transaction id), committed last.
        await early.query('INSERT INTO streams (stream_id, version) VALUES ($1, 1)', [earlyStream]);
        await early.query(
          `INSERT INTO events (event_id, stream_id, stream_position, type, data, metadata, hash)
           VALUES (gen_random_uuid(), $1, 1, 'LoginFailed', '{}', '{}', '\\x00')`,
          [earlyStream],
        );
        await store.appendToStream(lateStream, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });

        // The late event is committed, but reading it now would move the cursor past the early one.
        const whileOpen = await store.readAll({ after: start });
        expect(whileOpen).toEqual({ events: [], position: start });

        await early.query('COMMIT');
      } finally {
        early.release();
      }

      const afterCommit = await vi.waitFor(
        async () => {
          const page = await store.readAll({ after: start });
          expect(page.events).toHaveLength(2);
          return page;
        },
        { timeout: 10_000 },
      );
      expect(afterCommit.events.map((e) => e.streamId)).toEqual([earlyStream, lateStream]);
      const [first, second] = afterCommit.events;
      expect(first && second && first.globalPosition < second.globalPosition).toBe(true);
      expect(BigInt(first?.logPosition.transactionId ?? 0)).toBeLessThan(BigInt(second?.logPosition.transactionId ?? 0));
    },
  );

  it('orders the events of one transaction by their position as numbers, across page boundaries', async () => {
    // 1,000 events in one append: their positions cross a power of ten, where text order differs.
    const streamId = `test-${randomUUID()}`;
    const start = await vi.waitFor(
      async () => {
        const end = await readToEnd();
        expect(end.events).toHaveLength(await count('SELECT 1 FROM events'));
        return end.position;
      },
      { timeout: 10_000 },
    );
    await store.appendToStream(streamId, Array.from({ length: 1000 }, () => loginFailed(null)), { expectedVersion: 'no_stream', metadata: metadata() });
    const read = await vi.waitFor(
      async () => {
        const events = [];
        let position = start;
        for (;;) {
          const page = await store.readAll({ after: position, limit: 7 });
          events.push(...page.events);
          position = page.position;
          if (page.events.length < 7) break;
        }
        expect(events).toHaveLength(1000);
        return events;
      },
      { timeout: 10_000 },
    );
    expect(read.map((event) => event.streamPosition)).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1));
  });

  it('refuses a malformed cursor or limit as a programmer error', async () => {
    await expect(store.readAll({ after: { transactionId: 'x', globalPosition: '1' } })).rejects.toThrow(TypeError);
    await expect(store.readAll({ limit: 0 })).rejects.toThrow(TypeError);
  });
});

describe('rebuildProjections', () => {
  const snapshot = async () => {
    const tables: Record<string, unknown[]> = {};
    for (const table of store.projections.flatMap((projection) => projection.tables)) {
      tables[table.name] = (await db.pool.query(`SELECT * FROM ${table.name} ORDER BY 1`)).rows;
    }
    return tables;
  };

  it('reproduces the projection rows from the log alone, as a live database pruned at the same instant holds them', async () => {
    // Every projected event type at least once.
    const userId = newUserId();
    const userName = key(uniqueName('Frank'));
    await store.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: userName.display, role: 'chef', email: 'f@example.com', name: 'Frank' })], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      claims: [{ kind: 'user_name', value: userName.key }],
    });
    const live = newSessionId();
    const issued = tokenIssued(live, userId);
    const refreshed = tokenRefreshed(issued);
    await store.appendToStream(`session-${live}`, [issued, refreshed], { expectedVersion: 'no_stream', metadata: metadata() });
    const revoked = newSessionId();
    await store.appendToStream(`session-${revoked}`, [tokenIssued(revoked, userId), sessionRevoked(revoked, userId)], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
    });
    await store.appendToStream(`client-${uniqueName('pos')}`, [clientRegistered(uniqueName('pos'))], { expectedVersion: 'no_stream', metadata: metadata() });
    // An event type the projections do not know is kept in the log and skipped by them.
    await store.appendToStream(`test-${randomUUID()}`, [{ type: 'SomethingNew', data: { x: 1 } }], { expectedVersion: 'no_stream', metadata: metadata() });

    // Between the fixtures' expiries: the login's access token (12:30) is past; the refreshed one
    // (12:40) and every refresh token (May 15), the rotated one included, are not.
    const now = new Date('2024-05-01T12:35:00.000Z');
    await pruneExpiredRows(db.pool, store.projections, { now });
    const before = await snapshot();
    expect(before['access_tokens']).toContainEqual(expect.objectContaining({ digest: refreshed.data.accessTokenDigest, session_id: live }));
    expect(before['access_tokens']).not.toContainEqual(expect.objectContaining({ digest: issued.data.accessTokenDigest }));
    expect(before['refresh_tokens']).toContainEqual(expect.objectContaining({ digest: issued.data.refreshTokenDigest, session_id: live }));
    expect(before['users']).toContainEqual(expect.objectContaining({ user_id: userId, user_name_key: userName.key, role: 'chef' }));
    expect(before['sessions']).toContainEqual(expect.objectContaining({ session_id: revoked, status: 'revoked', revoked_reason: 'logout' }));
    // Drift the projections, so that the rebuild has something to repair.
    await db.pool.query('DELETE FROM users WHERE user_id = $1', [userId]);
    await db.pool.query(
      `INSERT INTO access_tokens (digest, session_id, user_id, client_id, expires_at) VALUES ($1, 's', 'u', 'c', now())`,
      [newDigest()],
    );
    await db.pool.query('DELETE FROM clients');

    const { replayed } = await rebuildProjections(db.pool, store, { now });

    // Every event of a type some projection reads; the others are left in the log.
    const read = [...new Set(store.projections.flatMap((projection) => projection.canHandle))];
    expect(replayed).toBe(await count('SELECT 1 FROM events WHERE type = ANY($1::text[])', [read]));
    expect(await snapshot()).toEqual(before);
  });
});

describe('claims and credentials', () => {
  it('writes the client secret digest beside ClientRegistered', async () => {
    const clientId = uniqueName('svc');
    const digest = newDigest();
    await store.appendToStream(`client-${clientId}`, [clientRegistered(clientId)], {
      expectedVersion: 'no_stream',
      metadata: metadata(),
      credentials: [{ kind: 'client_secret', clientId: ClientId(clientId), digest }],
    });
    const { rows } = await db.pool.query('SELECT secret_digest FROM client_credentials WHERE client_id = $1', [clientId]);
    expect(rows).toEqual([{ secret_digest: digest }]);
    // Secrets never enter the log.
    expect(await count("SELECT 1 FROM events WHERE data::text LIKE '%' || $1 || '%'", [digest])).toBe(0);
  });

  it('replaces a password hash: a later write for the same user is a password change', async () => {
    const userId = newUserId();
    const write = (hash: string, expectedVersion: 'no_stream' | number) =>
      store.appendToStream(userStreamId(userId), [loginFailed(userId)], { expectedVersion, metadata: metadata(), credentials: [{ kind: 'password', userId, hash }] });
    await write('$argon2id$first', 'no_stream');
    await write('$argon2id$second', 1);
    const { rows } = await db.pool.query('SELECT password_hash FROM user_credentials WHERE user_id = $1', [userId]);
    expect(rows).toEqual([{ password_hash: '$argon2id$second' }]);
  });

  it('refuses claims or credentials without an event', async () => {
    await expect(
      store.appendToStream(`test-${randomUUID()}`, [], {
        expectedVersion: 'any',
        metadata: metadata(),
        claims: [{ kind: 'email', value: 'x@example.com' }],
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe('the hash chain', () => {
  it('chains each stream: every event hash covers the previous one, and the stream keeps the last', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.appendToStream(streamId, [loginFailed(null), loginFailed(null, 2)], { expectedVersion: 'no_stream', metadata: metadata() });
    await store.appendToStream(streamId, [loginFailed(null, 3)], { expectedVersion: 2, metadata: metadata() });
    const { rows } = await db.pool.query<{ ok: boolean; hash: Buffer }>(
      `SELECT hash = pos_auth_event_hash(lag(hash) OVER w, event_id, stream_id, stream_position, type, data, metadata, recorded_at) AS ok, hash
       FROM events WHERE stream_id = $1 WINDOW w AS (ORDER BY stream_position) ORDER BY stream_position`,
      [streamId],
    );
    expect(rows.map((row) => row.ok)).toEqual([true, true, true]);
    const { rows: stream } = await db.pool.query<{ last_hash: Buffer }>('SELECT last_hash FROM streams WHERE stream_id = $1', [streamId]);
    expect(stream[0]?.last_hash).toEqual(rows[2]?.hash);
    expect(new Set(rows.map((row) => row.hash.toString('hex'))).size).toBe(3);
  });
});

describe('snapshots and partial reads', () => {
  it('keeps the state an append gives, with the version it is of; an append without one clears it', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.append([{ streamId, events: [loginFailed(null)], expectedVersion: 'no_stream', snapshot: { schema: 3, state: { n: 1 } } }], { metadata: metadata() });
    expect(await store.readHead(streamId)).toEqual({ version: 1, snapshot: { schema: 3, version: 1, state: { n: 1 } } });
    await store.append([{ streamId, events: [loginFailed(null)], expectedVersion: 1 }], { metadata: metadata() });
    expect(await store.readHead(streamId)).toEqual({ version: 2, snapshot: null });
    expect(await store.readHead(`test-${randomUUID()}`)).toEqual({ version: 0, snapshot: null });
  });

  it('refuses a snapshot with expected version any (it could not be of a known version)', async () => {
    await expect(
      store.append([{ streamId: `test-${randomUUID()}`, events: [loginFailed(null)], expectedVersion: 'any', snapshot: { schema: 1, state: {} } }], { metadata: metadata() }),
    ).rejects.toThrow(TypeError);
  });

  it('reads a stream from a position, with the stream version', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.appendToStream(streamId, [loginFailed(null, 1), loginFailed(null, 2), loginFailed(null, 3)], { expectedVersion: 'no_stream', metadata: metadata() });
    const tail = await store.readStream(streamId, { fromPosition: 3 });
    expect(tail.version).toBe(3);
    expect(tail.events.map((event) => event.streamPosition)).toEqual([3]);
    expect(await store.readStream(streamId, { fromPosition: 4 })).toEqual({ version: 3, events: [] });
    await expect(store.readStream(streamId, { fromPosition: 0 })).rejects.toThrow(TypeError);
  });

  it('gives every event its own id', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.appendToStream(streamId, [loginFailed(null), loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });
    const ids = (await store.readStream(streamId)).events.map((event) => event.eventId);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('appends over several streams', () => {
  it('are atomic: a conflict on one stream writes nothing on the others', async () => {
    const [fresh, taken] = [`test-${randomUUID()}`, `test-${randomUUID()}`];
    await store.appendToStream(taken, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });
    const error = await rejectionOf(
      store.append(
        [
          { streamId: fresh, events: [loginFailed(null)], expectedVersion: 'no_stream' },
          { streamId: taken, events: [loginFailed(null)], expectedVersion: 'no_stream' },
        ],
        { metadata: metadata() },
      ),
    );
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamId: taken });
    expect(await count('SELECT 1 FROM events WHERE stream_id = $1', [fresh])).toBe(0);
    expect(await count('SELECT 1 FROM streams WHERE stream_id = $1', [fresh])).toBe(0);
  });

  it('return each stream its new version, in the order given', async () => {
    const [a, b] = [`test-b-${randomUUID()}`, `test-a-${randomUUID()}`];
    await store.appendToStream(a, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });
    const versions = await store.append(
      [
        { streamId: a, events: [loginFailed(null), loginFailed(null)], expectedVersion: 1 },
        { streamId: b, events: [loginFailed(null)], expectedVersion: 'no_stream' },
      ],
      { metadata: metadata() },
    );
    expect(versions).toEqual([3, 1]);
  });

  it('roll back the projections too when a projection write fails', async () => {
    const sessionId = newSessionId();
    const userId = newUserId();
    const issued = tokenIssued(sessionId, userId);
    await store.appendToStream(sessionStreamId(sessionId), [issued], { expectedVersion: 'no_stream', metadata: metadata() });
    // Another session presenting the same token digest: the projection's primary key refuses it.
    const clash = { ...tokenIssued(newSessionId(), userId) };
    const other = { ...clash, data: { ...clash.data, refreshTokenDigest: issued.data.refreshTokenDigest } };
    await expect(store.appendToStream(sessionStreamId(other.data.sessionId), [other], { expectedVersion: 'no_stream', metadata: metadata() })).rejects.toThrow();
    expect(await count('SELECT 1 FROM events WHERE stream_id = $1', [sessionStreamId(other.data.sessionId)])).toBe(0);
    expect(await count('SELECT 1 FROM access_tokens WHERE digest = $1', [other.data.accessTokenDigest])).toBe(0);
    expect(await count('SELECT 1 FROM sessions WHERE session_id = $1', [other.data.sessionId])).toBe(0);
  });
});

describe('projections as code', () => {
  it('refuse an append whose event changes a projection\'s rows without being in its canHandle', async () => {
    const { eventStore } = await createPosAuthPersistence(db.pool);
    const careless = createPostgresEventStore(db.pool, {
      projections: [{ ...clientsProjection, canHandle: [] }],
      personalData: { personalDataOf, ipDigest: (ip) => ip, keys: createPostgresSubjectKeys(db.pool) },
    });
    const clientId = uniqueName('pos');
    const append = (target: PostgresEventStore) =>
      target.appendToStream(`client-${clientId}`, [clientRegistered(clientId)], { expectedVersion: 'no_stream', metadata: metadata() });
    await expect(append(careless)).rejects.toThrow(new TypeError('The clients projection changes rows for ClientRegistered, which its canHandle does not list'));
    expect(await count('SELECT 1 FROM events WHERE stream_id = $1', [`client-${clientId}`])).toBe(0);
    await append(eventStore);
    expect(await count('SELECT 1 FROM clients WHERE client_id = $1', [clientId])).toBe(1);
  });

  it('refuse an update or a delete of an insert-only table', () => {
    const table = { name: 'tokens', key: ['digest'], columns: { digest: 'text' }, insertOnly: true } as const;
    expect(() => rowOpSql({ op: 'delete', table: 'tokens', where: { digest: 'd' } }, table, () => '$1')).toThrow(TypeError);
    expect(() => new InMemoryTables(new Map([['tokens', table]])).apply({ op: 'update', table: 'tokens', where: { digest: 'd' }, set: { digest: 'e' } })).toThrow(TypeError);
  });
});

describe('releasing claims', () => {
  it('frees a value for another stream, and re-claiming the same value in one append works', async () => {
    const email = `${uniqueName('gina')}@example.com`;
    const first = registration(uniqueName('gina'));
    await store.appendToStream(first.streamId, first.events, { expectedVersion: 'no_stream', metadata: metadata(), claims: [...first.claims, { kind: 'email', value: email }] });
    // The same value released and taken again by its holder: still held.
    await store.appendToStream(first.streamId, [loginFailed(first.userId)], { expectedVersion: 1, metadata: metadata(), releaseClaims: ['email'], claims: [{ kind: 'email', value: email }] });
    const second = registration(uniqueName('hal'));
    expect(
      await rejectionOf(store.appendToStream(second.streamId, second.events, { expectedVersion: 'no_stream', metadata: metadata(), claims: [...second.claims, { kind: 'email', value: email }] })),
    ).toBeInstanceOf(ClaimTakenError);
    await store.appendToStream(first.streamId, [loginFailed(first.userId)], { expectedVersion: 2, metadata: metadata(), releaseClaims: ['email'] });
    await expect(
      store.appendToStream(second.streamId, second.events, { expectedVersion: 'no_stream', metadata: metadata(), claims: [...second.claims, { kind: 'email', value: email }] }),
    ).resolves.toEqual({ nextExpectedVersion: 1 });
  });
});

describe('personal data', () => {
  const secretish = () => `Zq${randomUUID().slice(0, 12)}`;

  it('is sealed in the log, open when read back, and erased for good with its key', async () => {
    const userId = newUserId();
    const [name, email, ip, userAgent] = [secretish(), `${secretish()}@example.com`, `198.51.100.${Math.floor(Math.random() * 250)}`, secretish()];
    const registered = userRegistered({ userId, userName: name, email, name: 'Person Name' });
    await store.appendToStream(userStreamId(userId), [registered], { expectedVersion: 'no_stream', metadata: metadata({ ip, userAgent }) });

    for (const plain of [name, name.toLowerCase(), email, ip, userAgent]) {
      expect(await count('SELECT 1 FROM events WHERE data::text LIKE $1 OR metadata::text LIKE $1', [`%${plain}%`])).toBe(0);
    }
    const [read] = (await store.readStream(userStreamId(userId))).events;
    expect(read?.data).toEqual(registered.data);
    expect(read?.metadata).toMatchObject({ ip, userAgent });

    await store.appendToStream(userStreamId(userId), [{ type: 'UserErased', data: { userId, erasedAt: '2024-05-02T00:00:00.000Z' } }], {
      expectedVersion: 1,
      metadata: metadata({ ip, userAgent }),
      erase: [userId],
    });
    const events = (await store.readStream(userStreamId(userId))).events;
    expect(events[0]?.data).toMatchObject({ userId, userName: '[erased]', userNameKey: '[erased]', email: '[erased]', name: '[erased]', role: 'patron' });
    for (const event of events) expect(event.metadata).toMatchObject({ ip: '[erased]', userAgent: '[erased]' });
    // A later event about the erased person never makes a new key: its fields are erased as written.
    await store.appendToStream(userStreamId(userId), [loginFailed(userId)], { expectedVersion: 2, metadata: metadata({ ip, userAgent }) });
    expect((await store.readStream(userStreamId(userId), { fromPosition: 3 })).events[0]?.metadata).toMatchObject({ ip: '[erased]' });
    expect(await count('SELECT 1 FROM subject_keys WHERE subject_id = $1 AND key IS NULL', [userId])).toBe(1);
  });

  it('reads a sealed box altered behind the service\'s back as unreadable, not as an error', async () => {
    const userId = newUserId();
    await store.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: secretish() })], { expectedVersion: 'no_stream', metadata: metadata() });
    const client = await db.pool.connect();
    try {
      // As a superuser would: past the append-only trigger.
      await client.query('ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete');
      await client.query(
        // One character of the box changed: its IV, so the authentication tag no longer matches.
        `UPDATE events SET data = jsonb_set(data, '{$pii,box}', to_jsonb(
           CASE WHEN left(data->'$pii'->>'box', 1) = 'A' THEN 'B' ELSE 'A' END || substr(data->'$pii'->>'box', 2)))
         WHERE stream_id = $1`,
        [userStreamId(userId)],
      );
      await client.query('ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete');
    } finally {
      client.release();
    }
    const [read] = (await store.readStream(userStreamId(userId))).events;
    expect(read?.data).toMatchObject({ userId, userName: '[unreadable]', email: '[unreadable]' });
  });

  it('keeps the IP of an event about nobody in clear, with a keyed digest that does not reveal it', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata({ ip: '192.0.2.55' }) });
    const { rows } = await db.pool.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM events WHERE stream_id = $1', [streamId]);
    expect(rows[0]?.metadata).toMatchObject({ ip: '192.0.2.55', ipDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await store.readStream(streamId)).events[0]?.metadata).not.toHaveProperty('ipDigest');
  });
});

describe('the integrity switch (for benchmarks only)', () => {
  it('without it an append writes no hash and personal data in clear; the chain of the other connections is untouched', async () => {
    const plainPool = createPool(db.connectionString, { schema: db.schema, max: 2, settings: { 'pos_auth.event_chain': 'off' } });
    try {
      const plain = (await createPosAuthPersistence(plainPool, { sealPersonalData: false })).eventStore;
      const userId = newUserId();
      const name = `plain${randomUUID().slice(0, 8)}`;
      await plain.appendToStream(userStreamId(userId), [userRegistered({ userId, userName: name })], { expectedVersion: 'no_stream', metadata: metadata({ ip: '192.0.2.9' }) });
      const { rows } = await db.pool.query<{ hash: Buffer; data: Record<string, unknown>; metadata: Record<string, unknown>; subject_id: string }>(
        'SELECT hash, data, metadata, subject_id FROM events WHERE stream_id = $1',
        [userStreamId(userId)],
      );
      expect(rows[0]).toMatchObject({ data: { userName: name }, metadata: { ip: '192.0.2.9' }, subject_id: userId });
      expect(rows[0]?.hash.length).toBe(0);
      // The default store on the default pool still chains and seals.
      const sealedId = newUserId();
      await store.appendToStream(userStreamId(sealedId), [userRegistered({ userId: sealedId, userName: `sealed${randomUUID().slice(0, 8)}` })], { expectedVersion: 'no_stream', metadata: metadata() });
      const { rows: sealed } = await db.pool.query<{ hash: Buffer; data: Record<string, unknown> }>('SELECT hash, data FROM events WHERE stream_id = $1', [userStreamId(sealedId)]);
      expect(sealed[0]?.hash.length).toBe(32);
      expect(sealed[0]?.data).toHaveProperty('$pii');
    } finally {
      await plainPool.end();
    }
  });
});
