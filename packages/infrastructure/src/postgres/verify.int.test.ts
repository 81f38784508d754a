import { randomUUID } from 'node:crypto';
import type { TokenIssued, TokenRefreshed } from '@pos-auth/domain';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createPosAuthPersistence } from '../persistence.js';
import { clientRegistered, loginFailed, metadata, newSessionId, newUserId, tokenIssued, tokenRefreshed } from '../testing/fixtures.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import type { PostgresEventStore } from './event-store.js';
import { verifyEventLog, type LogDamage } from './verify.js';

let db: TestSchema;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'));
  store = (await createPosAuthPersistence(db.pool)).eventStore;
});
afterAll(() => db?.drop());

/** As a superuser who goes around the service: the append-only triggers do not fire. */
const behindTheBack = async (sql: string, params: unknown[] = []) => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(sql, params);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
};

interface Appended {
  readonly streamId: string;
  /** Global positions by stream position (1 first). */
  readonly positions: readonly string[];
}

/** A session of `length` events, and a few other streams around it. */
const appendSession = async (length: number): Promise<Appended> => {
  const userId = newUserId();
  const sessionId = newSessionId();
  const streamId = `session-${sessionId}`;
  const events: (TokenIssued | TokenRefreshed)[] = [tokenIssued(sessionId, userId)];
  while (events.length < length) events.push(tokenRefreshed(events.at(-1)!));
  // Appended one by one, with other streams' events between them.
  for (const event of events) {
    await store.appendToStream(streamId, [event], { expectedVersion: 'any', metadata: metadata() });
    await store.appendToStream(`login-attempts-${randomUUID()}`, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata() });
  }
  const { rows } = await db.pool.query<{ global_position: string }>(
    'SELECT global_position::text AS global_position FROM events WHERE stream_id = $1 ORDER BY stream_position',
    [streamId],
  );
  return { streamId, positions: rows.map((row) => row.global_position) };
};

const firstDamage = async (): Promise<LogDamage | undefined> => {
  const report = await verifyEventLog(db.pool, { batchSize: 7 });
  return report.damages[0];
};

describe('verifyEventLog', () => {
  beforeEach(async () => {
    // Each test starts from an intact log: a client, and streams of several events.
    await store.appendToStream(`client-${randomUUID()}`, [clientRegistered(randomUUID())], { expectedVersion: 'no_stream', metadata: metadata() });
    expect((await verifyEventLog(db.pool)).ok).toBe(true);
  });

  it('walks an intact log: every event and stream, in slices, with a digest of the heads', async () => {
    await appendSession(5);
    const progress: number[] = [];
    const report = await verifyEventLog(db.pool, { batchSize: 3, onProgress: (done) => progress.push(done) });
    const { rows } = await db.pool.query<{ events: number; streams: number }>('SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM streams) AS streams');
    expect(report).toMatchObject({ ok: true, damages: [], damageCount: 0, events: rows[0]!.events, streams: rows[0]!.streams });
    expect(report.headsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)).toBe(rows[0]!.events);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The same walk in other slice sizes finds the same heads.
    expect((await verifyEventLog(db.pool, { batchSize: 1000 })).headsDigest).toBe(report.headsDigest);
  });

  it('names an event whose data was edited, and only it', async () => {
    const session = await appendSession(5);
    await behindTheBack(`UPDATE events SET data = jsonb_set(data, '{clientId}', '"someone-else"') WHERE global_position = $1`, [session.positions[2]]);
    const report = await verifyEventLog(db.pool, { batchSize: 4 });
    expect(report.damageCount).toBe(1);
    expect(report.damages[0]).toMatchObject({ kind: 'altered', streamId: session.streamId, streamPosition: 3, globalPosition: session.positions[2] });
  });

  it('names an event whose metadata or time was edited', async () => {
    const session = await appendSession(4);
    await behindTheBack(`UPDATE events SET recorded_at = recorded_at - interval '1 day' WHERE global_position = $1`, [session.positions[1]]);
    expect(await firstDamage()).toMatchObject({ kind: 'altered', streamId: session.streamId, streamPosition: 2 });
    await behindTheBack(`UPDATE events SET recorded_at = recorded_at + interval '1 day' WHERE global_position = $1`, [session.positions[1]]);
    expect(await firstDamage()).toBeUndefined();
    await behindTheBack(`UPDATE events SET metadata = metadata || '{"requestId": "forged"}' WHERE global_position = $1`, [session.positions[3]]);
    expect(await firstDamage()).toMatchObject({ kind: 'altered', streamId: session.streamId, streamPosition: 4 });
  });

  it('names the first of several edits in log order', async () => {
    const first = await appendSession(3);
    const second = await appendSession(3);
    await behindTheBack(`UPDATE events SET type = 'Forged' WHERE global_position = $1`, [second.positions[0]]);
    await behindTheBack(`UPDATE events SET type = 'Forged' WHERE global_position = $1`, [first.positions[1]]);
    const report = await verifyEventLog(db.pool, { batchSize: 5 });
    expect(report.damageCount).toBe(2);
    expect(report.damages.map((damage) => damage.globalPosition)).toEqual([first.positions[1], second.positions[0]]);
  });

  it('names a removed event by its position, the one after it by its global position', async () => {
    const session = await appendSession(5);
    await behindTheBack('DELETE FROM events WHERE global_position = $1', [session.positions[1]]);
    expect(await firstDamage()).toEqual({ kind: 'removed', streamId: session.streamId, streamPosition: 2, globalPosition: session.positions[2], missing: 1 });
  });

  it('names the first of two events whose order was swapped', async () => {
    const session = await appendSession(5);
    // Swap positions 2 and 4 (through a free position, as the unique key requires).
    await behindTheBack(
      `UPDATE events SET stream_position = CASE stream_position WHEN 2 THEN -4 WHEN 4 THEN -2 END WHERE stream_id = $1 AND stream_position IN (2, 4)`,
      [session.streamId],
    );
    await behindTheBack('UPDATE events SET stream_position = -stream_position WHERE stream_id = $1 AND stream_position < 0', [session.streamId]);
    expect(await firstDamage()).toMatchObject({ kind: 'reordered', streamId: session.streamId, streamPosition: 2, globalPosition: session.positions[3] });
  });

  it('names a truncated tail, and a stream whose every event is gone', async () => {
    const session = await appendSession(4);
    await behindTheBack('DELETE FROM events WHERE global_position = ANY($1::bigint[])', [session.positions.slice(2)]);
    expect(await firstDamage()).toMatchObject({ kind: 'truncated', streamId: session.streamId, streamPosition: 2, globalPosition: session.positions[1], version: 4 });
    await behindTheBack('DELETE FROM events WHERE stream_id = $1', [session.streamId]);
    expect(await firstDamage()).toMatchObject({ kind: 'truncated', streamId: session.streamId, streamPosition: 0, globalPosition: null, version: 4 });
  });

  it('names a stream head that does not match its last event', async () => {
    const session = await appendSession(3);
    await behindTheBack(`UPDATE streams SET last_hash = sha256('forged') WHERE stream_id = $1`, [session.streamId]);
    expect(await firstDamage()).toMatchObject({ kind: 'head_mismatch', streamId: session.streamId, streamPosition: 3 });
  });

  it('misses a chain rewritten whole by a superuser, unless heads saved before are checked', async () => {
    const session = await appendSession(4);
    const saved = (await verifyEventLog(db.pool)).heads;
    // Delete the last event, then recompute what the chain and the head say: the chain alone is fooled.
    await behindTheBack('DELETE FROM events WHERE global_position = $1', [session.positions[3]]);
    await behindTheBack('UPDATE streams SET version = 3, last_hash = (SELECT hash FROM events WHERE global_position = $2) WHERE stream_id = $1', [
      session.streamId,
      session.positions[2],
    ]);
    expect((await verifyEventLog(db.pool)).ok).toBe(true);
    const checked = await verifyEventLog(db.pool, { knownHeads: saved });
    expect(checked.ok).toBe(false);
    expect(checked.damages).toEqual([{ kind: 'head_rewritten', streamId: session.streamId, streamPosition: 4, globalPosition: null }]);
  });

  // Each test damages streams of its own: drop them, so that the next starts from an intact log.
  afterEach(async () => {
    const report = await verifyEventLog(db.pool, { maxDamages: 1000 });
    const streams = [...new Set(report.damages.map((damage) => damage.streamId))];
    if (streams.length > 0) {
      await behindTheBack('DELETE FROM events WHERE stream_id = ANY($1::text[])', [streams]);
      await behindTheBack('DELETE FROM streams WHERE stream_id = ANY($1::text[])', [streams]);
    }
  });
});
