import { createHash } from 'node:crypto';
import type pg from 'pg';

/** What a walk of the log can find wrong, named by the event where it shows. */
export type LogDamage =
  /** The event's content, position or predecessor no longer gives its hash. */
  | { readonly kind: 'altered'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string; readonly eventId: string }
  /** The event stands before an event that was appended earlier (its stream's order was changed). */
  | { readonly kind: 'reordered'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string; readonly eventId: string }
  /** Events are missing at `streamPosition` (up to the event at `globalPosition`, which follows the gap). */
  | { readonly kind: 'removed'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string; readonly missing: number }
  /** The stream's last events are gone: it records `version` events, the log holds up to `streamPosition` (0: none). */
  | { readonly kind: 'truncated'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string | null; readonly version: number }
  /** The stream's recorded head (its last hash, or its row) does not match its last event. */
  | { readonly kind: 'head_mismatch'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string | null }
  /** An event that a saved head named is no longer what it was (the chain was rewritten, or cut). */
  | { readonly kind: 'head_rewritten'; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string | null };

/** A stream's last event as of a walk: what an operator keeps elsewhere to catch a rewritten chain. */
export interface StreamHead {
  readonly streamId: string;
  readonly version: number;
  /** The event's hash, hex. */
  readonly hash: string;
}

export interface VerifyOptions {
  /** Events per query (default 20,000; at least 3). */
  readonly batchSize?: number;
  readonly onProgress?: (checked: number, total: number) => void;
  /** Heads saved by an earlier walk: each must still be the hash of the event at that position. */
  readonly knownHeads?: Iterable<StreamHead>;
  /** Damages reported at most (default 100; the walk counts them all). */
  readonly maxDamages?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  /** The first damage of each damaged stream, in log order (global position), the first one first. */
  readonly damages: readonly LogDamage[];
  /** Damaged streams. */
  readonly damageCount: number;
  /** Every stream's head after the walk, in stream order. */
  readonly heads: readonly StreamHead[];
  /** SHA-256 over the heads (one `stream version hash` line each): a short name for them. */
  readonly headsDigest: string;
}

interface WalkRow {
  stream_id: string;
  stream_position: number;
  global_position: string;
  event_id: string;
  hash: Buffer;
  prev_position: number | null;
  next_global: string | null;
  hash_ok: boolean;
}

/**
 * One slice of the log in stream order, each event checked against the one before it in its
 * stream (as stored): its position follows, it was appended after it and before the next, and its
 * hash is `pos_auth_event_hash` of its content and the previous event's stored hash. So an edited
 * event is named, not the events after it.
 */
const sliceQuery = `
SELECT stream_id, stream_position, global_position::text AS global_position, event_id::text AS event_id, hash,
       lag(stream_position) OVER w AS prev_position,
       (lead(global_position) OVER w)::text AS next_global,
       hash = pos_auth_event_hash(lag(hash) OVER w, event_id, stream_id, stream_position, type, data, metadata, recorded_at) AS hash_ok
FROM (
  SELECT * FROM events
  WHERE $1::text IS NULL OR (stream_id, stream_position) >= ($1::text, $2::integer)
  ORDER BY stream_id, stream_position LIMIT $3
) AS slice
WINDOW w AS (PARTITION BY stream_id ORDER BY stream_position)
ORDER BY stream_id, stream_position`;

const byLogOrder = (damage: LogDamage): bigint => (damage.globalPosition === null ? BigInt(Number.MAX_SAFE_INTEGER) ** 2n : BigInt(damage.globalPosition));

/**
 * Walks the whole log, stream by stream, and reports what was altered, removed or reordered behind
 * the service's back (as a superuser, past the append-only triggers): per stream, positions run
 * from 1 without gaps, events were appended in their order, each hash chains its content to the
 * previous hash, and `streams.version`/`last_hash` match the last event. It names the first
 * damage of each stream; the report's first is the earliest in the log. With `knownHeads` (from
 * an earlier walk, kept outside the database) it also catches a chain recomputed from scratch,
 * which the chain alone cannot: whoever can write the log can also rehash it.
 *
 * @example
 * const report = await verifyEventLog(pool, { onProgress: (done, total) => bar.update(done, { total }) });
 * if (!report.ok) console.error('first damage:', report.damages[0]);
 */
export const verifyEventLog = async (pool: pg.Pool, options: VerifyOptions = {}): Promise<VerifyReport> => {
  const batchSize = options.batchSize ?? 20_000;
  const maxDamages = options.maxDamages ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 3) throw new TypeError('verifyEventLog: batchSize must be a whole number from 3');
  const total = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0);
  const known = new Map<string, StreamHead>();
  for (const head of options.knownHeads ?? []) known.set(head.streamId, head);
  const seenKnown = new Set<string>();

  const damages: LogDamage[] = [];
  let damageCount = 0;
  // Past its first damage a stream cannot be judged (a moved event breaks the links after it too):
  // one damage per stream, the first in its order.
  const damaged = new Set<string>();
  const report = (damage: LogDamage) => {
    if (damaged.has(damage.streamId)) return;
    damaged.add(damage.streamId);
    damageCount += 1;
    damages.push(damage);
    // Keep the earliest ones in log order; trim now and then rather than on every push.
    if (damages.length > 4 * maxDamages) {
      damages.sort((a, b) => (byLogOrder(a) < byLogOrder(b) ? -1 : 1));
      damages.length = maxDamages;
    }
  };

  const heads: StreamHead[] = [];
  let ended: { streamId: string; position: number; globalPosition: string; hash: Buffer }[] = [];
  const checkEnded = async () => {
    if (ended.length === 0) return;
    const { rows } = await pool.query<{ stream_id: string; version: number; last_hash: Buffer | null }>(
      'SELECT stream_id, version, last_hash FROM streams WHERE stream_id = ANY($1::text[])',
      [ended.map((end) => end.streamId)],
    );
    const recorded = new Map(rows.map((row) => [row.stream_id, row]));
    for (const end of ended) {
      heads.push({ streamId: end.streamId, version: end.position, hash: end.hash.toString('hex') });
      const row = recorded.get(end.streamId);
      const at = { streamId: end.streamId, streamPosition: end.position, globalPosition: end.globalPosition };
      if (row !== undefined && row.version > end.position) report({ kind: 'truncated', ...at, version: row.version });
      else if (row === undefined || row.version !== end.position || row.last_hash === null || !row.last_hash.equals(end.hash)) report({ kind: 'head_mismatch', ...at });
    }
    ended = [];
  };

  let checked = 0;
  let start: { streamId: string; position: number } | null = null;
  let first = true;
  for (;;) {
    // Each slice repeats the last event checked (as the first one's predecessor) and reads one
    // beyond what it checks (as the last one's successor).
    const { rows }: pg.QueryResult<WalkRow> = await pool.query<WalkRow>(sliceQuery, [start?.streamId ?? null, start?.position ?? null, batchSize]);
    const done = rows.length < batchSize;
    const from = first ? 0 : 1;
    const to = done ? rows.length : rows.length - 1;
    for (let index = from; index < to; index += 1) {
      const row = rows[index]!;
      const at = { streamId: row.stream_id, streamPosition: row.stream_position, globalPosition: row.global_position };
      const expected = (row.prev_position ?? 0) + 1;
      if (row.stream_position !== expected) {
        report({ kind: 'removed', ...at, streamPosition: expected, missing: row.stream_position - expected });
      } else if (row.next_global !== null && BigInt(row.next_global) < BigInt(row.global_position)) {
        report({ kind: 'reordered', ...at, eventId: row.event_id });
      } else if (!row.hash_ok) {
        report({ kind: 'altered', ...at, eventId: row.event_id });
      }
      const head = known.get(row.stream_id);
      if (head !== undefined && head.version === row.stream_position) {
        seenKnown.add(row.stream_id);
        if (head.hash !== row.hash.toString('hex')) report({ kind: 'head_rewritten', ...at });
      }
      const next = rows[index + 1];
      if (next?.stream_id !== row.stream_id) {
        ended.push({ streamId: row.stream_id, position: row.stream_position, globalPosition: row.global_position, hash: row.hash });
      }
      checked += 1;
    }
    await checkEnded();
    options.onProgress?.(checked, Math.max(total, checked));
    if (done) break;
    const last: WalkRow = rows[to - 1]!;
    start = { streamId: last.stream_id, position: last.stream_position };
    first = false;
  }

  // Streams whose every event is gone, and saved heads the walk never reached.
  const { rows: empty } = await pool.query<{ stream_id: string; version: number }>(
    'SELECT s.stream_id, s.version FROM streams s WHERE s.version > 0 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id)',
  );
  for (const row of empty) report({ kind: 'truncated', streamId: row.stream_id, streamPosition: 0, globalPosition: null, version: row.version });
  for (const head of known.values()) {
    if (!seenKnown.has(head.streamId)) report({ kind: 'head_rewritten', streamId: head.streamId, streamPosition: head.version, globalPosition: null });
  }

  damages.sort((a, b) => (byLogOrder(a) < byLogOrder(b) ? -1 : byLogOrder(a) > byLogOrder(b) ? 1 : 0));
  damages.length = Math.min(damages.length, maxDamages);
  const digest = createHash('sha256');
  for (const head of heads) digest.update(`${head.streamId} ${head.version} ${head.hash}\n`);
  return {
    ok: damageCount === 0,
    events: checked,
    streams: heads.length,
    damages,
    damageCount,
    heads,
    headsDigest: digest.digest('hex'),
  };
};
