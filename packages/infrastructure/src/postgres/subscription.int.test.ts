import { randomUUID } from 'node:crypto';
import { ClientId, UserNameDigest, personalDataOf, type DomainEvent, type UserId } from '@pos-auth/domain';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createIpDigester, loadServiceKeys } from '../crypto/service-keys.js';
import { metadata, newSessionId, newUserId, tokenIssued } from '../testing/fixtures.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { createPostgresEventStore, type PostgresEventStore } from './event-store.js';
import { loginActivityConsumer } from './login-activity.js';
import { createPostgresSubjectKeys } from './personal-data.js';
import { posAuthProjections } from './projections.js';
import { logChannel, startSubscription, type LogConsumer, type RunningSubscription } from './subscription.js';

let db: TestSchema;
let store: PostgresEventStore;
const running: RunningSubscription[] = [];

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 12 });
  const serviceKeys = await loadServiceKeys(db.pool);
  store = createPostgresEventStore(db.pool, {
    projections: posAuthProjections,
    personalData: { personalDataOf, ipDigest: createIpDigester(serviceKeys.ipHmac), keys: createPostgresSubjectKeys(db.pool) },
    notify: { channel: logChannel, types: new Set(['Ping', ...loginActivityConsumer.wakeOn]) },
  });
  await db.pool.query('CREATE TABLE delivered (consumer text NOT NULL, instance text NOT NULL, event_id uuid NOT NULL, global_position bigint NOT NULL)');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((subscription) => subscription.stop()));
});
afterAll(() => db?.drop());

const ping = (n: number): DomainEvent => ({ type: 'Ping', data: { n } });
const pong = (n: number): DomainEvent => ({ type: 'Pong', data: { n } });

const append = (events: readonly DomainEvent[], streamId = `test-${randomUUID()}`) =>
  store.appendToStream(streamId, events, { expectedVersion: 'any', metadata: metadata() });

/** A consumer that writes what it is given into `delivered`, in its transaction. */
const recorder = (name: string, instance: string, options: { failing?: () => boolean } = {}): LogConsumer => ({
  name,
  wakeOn: ['Ping'],
  async handle(events, transaction) {
    await transaction.query(
      'INSERT INTO delivered (consumer, instance, event_id, global_position) SELECT $1, $2, * FROM unnest($3::uuid[], $4::bigint[])',
      [name, instance, events.map((event) => event.eventId), events.map((event) => event.globalPosition.toString())],
    );
    if (options.failing?.() === true) throw new Error('the consumer failed');
  },
});

const start = (consumer: LogConsumer, options: Parameters<typeof startSubscription>[3] = {}) => {
  const subscription = startSubscription(db.pool, store, consumer, { idlePollMs: 100, standbyPollMs: 100, retryDelayMs: 100, ...options });
  running.push(subscription);
  return subscription;
};

const delivered = async (consumer: string) =>
  (
    await db.pool.query<{ instance: string; event_id: string; global_position: string }>(
      'SELECT instance, event_id, global_position::text AS global_position FROM delivered WHERE consumer = $1 ORDER BY ctid',
      [consumer],
    )
  ).rows;

const eventIds = async () => (await db.pool.query<{ event_id: string }>('SELECT event_id FROM events ORDER BY transaction_id, global_position')).rows.map((row) => row.event_id);

describe('startSubscription', () => {
  it('delivers every event once, in commit order, and resumes from its checkpoint after a stop', async () => {
    const name = `c-${randomUUID()}`;
    await append([ping(1), pong(2)]);
    const first = start(recorder(name, 'first'));
    await append([ping(3)]);
    await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 10_000 });
    await first.stop();
    expect(first.active).toBe(false);
    await append([pong(4), pong(5)]);
    start(recorder(name, 'second'));
    await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 10_000 });
    const rows = await delivered(name);
    expect(rows.filter((row) => row.instance === 'second')).toHaveLength(2);
  });

  it('never passes a transaction that wrote first and commits last', async () => {
    const name = `c-${randomUUID()}`;
    start(recorder(name, 'only'));
    await vi.waitFor(async () => expect(await delivered(name)).toHaveLength((await eventIds()).length), { timeout: 10_000 });
    const early = await db.pool.connect();
    try {
      await early.query('BEGIN');
      await early.query(
        `INSERT INTO events (event_id, stream_id, stream_position, type, data, metadata, hash)
         VALUES (gen_random_uuid(), $1, 1, 'Early', '{}', '{"requestId": "early"}', '\\x00')`,
        [`test-${randomUUID()}`],
      );
      await append([ping(6)]);
      // Long enough for several polls and a notification: nothing may be delivered past the open one.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await delivered(name)).toHaveLength((await eventIds()).length - 1);
      await early.query('COMMIT');
    } finally {
      early.release();
    }
    await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 10_000 });
  });

  it('runs once per name across instances; when the active one stops, another takes over', async () => {
    const name = `c-${randomUUID()}`;
    const instances = [start(recorder(name, 'a')), start(recorder(name, 'b')), start(recorder(name, 'c'))];
    await vi.waitFor(() => expect(instances.filter((instance) => instance.active)).toHaveLength(1), { timeout: 10_000 });
    for (let round = 0; round < 3; round += 1) {
      await append([ping(round), pong(round)]);
      await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 10_000 });
      const active = instances.filter((instance) => instance.active);
      expect(active).toHaveLength(1);
      await active[0]!.stop();
    }
    expect(instances.every((instance) => !instance.active)).toBe(true);
    const rows = await delivered(name);
    expect(new Set(rows.map((row) => row.instance)).size).toBe(3);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(rows.length);
  });

  it('wakes at once on a notification for the types it wakes on, however long it would idle', async () => {
    const name = `c-${randomUUID()}`;
    start(recorder(name, 'only'), { idlePollMs: 60_000 });
    await vi.waitFor(async () => expect(await delivered(name)).toHaveLength((await eventIds()).length), { timeout: 10_000 });
    // Give it time to go idle, then notify.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = Date.now();
    await append([ping(7)]);
    await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 5_000, interval: 20 });
    expect(Date.now() - sent).toBeLessThan(5_000);
  });

  it('applies nothing of a batch whose handler fails, reports it, and tries again', async () => {
    const name = `c-${randomUUID()}`;
    let failures = 2;
    const errors: unknown[] = [];
    start(recorder(name, 'only', { failing: () => failures-- > 0 }), { onError: (error) => errors.push(error) });
    await vi.waitFor(async () => expect((await delivered(name)).map((row) => row.event_id)).toEqual(await eventIds()), { timeout: 10_000 });
    expect(errors).toHaveLength(2);
    expect(String(errors[0])).toContain('the consumer failed');
    const rows = await delivered(name);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(rows.length);
  });
});

describe('the login-activity consumer', () => {
  const failed = (userId: UserId, consecutiveFailures: number): DomainEvent => ({
    type: 'LoginFailed',
    data: { userId, userNameDigest: UserNameDigest('d'), clientId: ClientId('admin-panel'), reason: 'wrong_password', consecutiveFailures, failedAt: `2024-05-01T12:00:0${consecutiveFailures}.000Z` },
  });
  const activity = async (userId: UserId) => (await db.pool.query('SELECT * FROM login_activity WHERE user_id = $1', [userId])).rows[0];

  it('keeps the last login and the failures since, and forgets an erased account', async () => {
    const [ana, ben] = [newUserId(), newUserId()];
    start(loginActivityConsumer);
    await append([failed(ana, 1), failed(ana, 2)]);
    await append([failed(ben, 1)]);
    await vi.waitFor(async () => expect(await activity(ana)).toMatchObject({ consecutive_failures: 2, last_failure_reason: 'wrong_password', last_login_at: null }), {
      timeout: 10_000,
    });
    const login = tokenIssued(newSessionId(), ana);
    await append([login]);
    await vi.waitFor(async () => expect(await activity(ana)).toMatchObject({ consecutive_failures: 0, last_login_client_id: 'admin-panel', last_login_at: new Date(login.data.issuedAt) }), {
      timeout: 10_000,
    });
    // Failures, then the erasure, in one batch: nothing of the person is left.
    await append([failed(ben, 2), { type: 'UserErased', data: { userId: ben, erasedAt: '2024-05-02T00:00:00.000Z' } }]);
    await vi.waitFor(async () => expect(await activity(ben)).toBeUndefined(), { timeout: 10_000 });
    expect(await activity(ana)).toMatchObject({ consecutive_failures: 0, last_failure_at: new Date('2024-05-01T12:00:02.000Z') });
  });
});
