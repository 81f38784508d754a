import { ValidationError, sessionStreamId, type AuditEvent, type AuditFilter, type AuditLog } from '@pos-auth/domain';
import type { Pool } from 'pg';
import { eventColumns, toRecordedEvents, type EventRow } from './event-rows.js';
import type { PersonalDataCodec } from './personal-data.js';

/** A cursor is the log position of the last event of a page: `<transaction id>.<global position>`, base64url. */
const encodeCursor = (transactionId: string, globalPosition: string) => Buffer.from(`${transactionId}.${globalPosition}`, 'utf8').toString('base64url');

const decodeCursor = (cursor: string): { transactionId: string; globalPosition: string } => {
  const match = /^(\d{1,20})\.(\d{1,19})$/u.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null || encodeCursor(match[1]!, match[2]!) !== cursor) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor of this service' }]);
  }
  return { transactionId: match[1]!, globalPosition: match[2]! };
};

/** Collects a statement's parameters and hands out their placeholders. */
class Parameters {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * The SQL of one page. Commit-safe order is (transaction_id, global_position), read only below the
 * oldest running transaction (as `readAll` does), so that a later page never holds an event that
 * sorts before the cursor.
 *
 * How a page is found depends on the filters (see migration 004):
 * - a key (user, session, IP, request, user name): that key's index holds its events in commit
 *   order, with type and time inside it, and a page is a range scan of it;
 * - a start time and no key: the matching events of the time range are collected and sorted,
 *   since a scan in commit order would first walk past everything before the range;
 * - neither: a scan in commit order, of the type's or client's index or of the whole log.
 * A user name is two keys (the account that has the name now, and the stream of the failed logins
 * typed with it), an IPv4 address two written forms: each key gives its first page in its order,
 * and the page is the first events of them all.
 */
const pageQuery = (
  filter: Omit<AuditFilter, 'ips'> & { readonly ipDigests?: readonly string[] | undefined },
  after: { transactionId: string; globalPosition: string } | null,
  limit: number,
) => {
  const params = new Parameters();
  const common = ['e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())'];
  if (after !== null) {
    common.push(`(e.transaction_id, e.global_position) > (${params.add(after.transactionId, 'xid8')}, ${params.add(after.globalPosition, 'bigint')})`);
  }
  if (filter.userId !== undefined) common.push(`e.subject_id = ${params.add(filter.userId, 'text')}`);
  if (filter.sessionId !== undefined) common.push(`e.stream_id = ${params.add(sessionStreamId(filter.sessionId), 'text')}`);
  if (filter.clientId !== undefined) common.push(`e.metadata->>'clientId' = ${params.add(filter.clientId, 'text')}`);
  if (filter.types !== undefined) common.push(`e.type = ANY (${params.add(filter.types, 'text[]')})`);
  if (filter.requestId !== undefined) common.push(`e.metadata->>'requestId' = ${params.add(filter.requestId, 'text')}`);
  if (filter.from !== undefined) common.push(`e.recorded_at >= ${params.add(filter.from, 'timestamptz')}`);
  if (filter.to !== undefined) common.push(`e.recorded_at < ${params.add(filter.to, 'timestamptz')}`);

  // Filters that match one of several keys (a user name's two, an IP's written forms): one
  // branch per combination, each in its key's order, merged.
  const alternatives: string[][] = [];
  if (filter.userName !== undefined) {
    alternatives.push([
      `e.subject_id = (SELECT u.user_id FROM users u WHERE u.user_name_key = ${params.add(filter.userName.key, 'text')})`,
      `e.stream_id = ${params.add(filter.userName.attemptsStreamId, 'text')}`,
    ]);
  }
  if (filter.ipDigests !== undefined) {
    // The index's prefix alone, so that the planner reads it in order; readEvents checks the rest.
    alternatives.push(filter.ipDigests.map((digest) => `left(e.metadata->>'ipDigest', 16) = ${params.add(digest.slice(0, 16), 'text')}`));
  }
  const branches = alternatives.reduce<string[][]>((combined, group) => combined.flatMap((branch) => group.map((condition) => [...branch, condition])), [[]]);
  const take = params.add(limit, 'integer');
  const select = (conditions: string[]) => `SELECT e.transaction_id, e.global_position FROM events e WHERE ${[...common, ...conditions].join(' AND ')}`;
  const keyed = filter.userId !== undefined || filter.sessionId !== undefined || filter.requestId !== undefined || alternatives.length > 0;
  let positions: string;
  if (branches.length > 1) {
    // UNION, not UNION ALL: an event may match two branches (a failed login of the account).
    positions = `SELECT * FROM (${branches.map((branch) => `(${select(branch)} ORDER BY 1, 2 LIMIT ${take})`).join(' UNION ')}) AS merged
                 ORDER BY 1, 2 LIMIT ${take}`;
  } else if (filter.from !== undefined && !keyed) {
    positions = `SELECT * FROM (${select(branches[0]!)} OFFSET 0) AS in_range ORDER BY 1, 2 LIMIT ${take}`;
  } else {
    positions = `${select(branches[0]!)} ORDER BY 1, 2 LIMIT ${take}`;
  }
  return {
    text: `WITH page AS MATERIALIZED (${positions})
           SELECT ${eventColumns.split(', ').map((column) => `e.${column}`).join(', ')}, e.transaction_id::text AS transaction_id
           FROM page p JOIN events e ON e.global_position = p.global_position
           ORDER BY p.transaction_id, p.global_position`,
    values: params.values,
  };
};

/**
 * The audit queries of API.md on PostgreSQL. Personal fields are opened with keys read for each
 * page, so an erasure shows on the next page read, on every instance.
 *
 * @example
 * const auditLog = createPostgresAuditLog(pool, personalData);
 * const { items, nextCursor } = await auditLog.readEvents({ types: ['LoginFailed'], from: new Date(Date.now() - 86_400_000) }, { after: null, limit: 100 });
 */
export const createPostgresAuditLog = (pool: Pool, personalData: PersonalDataCodec): AuditLog => ({
  async readEvents(filter, page) {
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new TypeError('readEvents: limit must be a whole number from 1');
    const after = page.after === null ? null : decodeCursor(page.after);
    const { ips, ...rest } = filter;
    const ipDigests = ips?.map(personalData.ipDigest);
    const query = pageQuery({ ...rest, ipDigests }, after, page.limit);
    const { rows } = await pool.query<EventRow & { transaction_id: string }>(query);
    // A 64-bit prefix of another IP's digest matches once in 2^64: such a row is dropped, and the
    // cursor still moves past it.
    const matching = ipDigests === undefined ? rows : rows.filter((row) => ipDigests.includes(String((row.metadata as { ipDigest?: unknown }).ipDigest)));
    const events = await toRecordedEvents(personalData.keys, matching);
    const last = rows.at(-1);
    return {
      items: events.map(
        (event): AuditEvent => ({
          position: event.globalPosition.toString(),
          streamId: event.streamId,
          type: event.type,
          recordedAt: event.recordedAt.toISOString(),
          data: event.data as Record<string, unknown>,
          metadata: event.metadata,
        }),
      ),
      // Also after a short page: the log grows, and a later read resumes exactly there.
      nextCursor: last === undefined ? null : encodeCursor(last.transaction_id, last.global_position),
    };
  },
});
