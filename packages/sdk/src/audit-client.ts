import { PosAuthError } from './errors.js';
import { errorFromResponse } from './replies.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An event of the log as the audit API shows it (`GET /audit/events`), camelCased at the top. */
export interface PosAuthAuditEvent {
  /** The global position, a string (it may exceed 2^53). */
  readonly position: string;
  readonly streamId: string;
  readonly type: string;
  /** ISO 8601 UTC. */
  readonly recordedAt: string;
  /** The event's payload; a personal field of an erased person reads `"[erased]"`. */
  readonly data: Readonly<Record<string, unknown>>;
  /** `requestId`, `occurredAt`, `clientId`, `actorUserId`, `ip`, `userAgent`. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Filters of `GET /audit/events`; every one given must match. */
export interface PosAuthAuditQuery {
  readonly userId?: string;
  readonly sessionId?: string;
  readonly clientId?: string;
  readonly types?: readonly string[];
  readonly ip?: string;
  readonly requestId?: string;
  /** ISO 8601; recorded at or after. */
  readonly from?: string;
  /** ISO 8601; recorded before. */
  readonly to?: string;
  /** As typed: also finds failed logins typed with it, whether or not an account has it. */
  readonly userName?: string;
  /** Start after this page's `nextCursor` (to resume an earlier walk). */
  readonly cursor?: string;
  /** Events per page, 1–1000 (the server's default is 100). */
  readonly limit?: number;
}

export interface PosAuthAuditPage {
  readonly items: readonly PosAuthAuditEvent[];
  /**
   * Where the next page starts; keep the last one to resume later (the log grows, and a resumed
   * walk sees exactly what was appended since). Null on an empty page: the walk reached the end.
   */
  readonly nextCursor: string | null;
}

export interface PosAuthAuditClientOptions {
  /** Where pos-auth answers, e.g. `https://auth.pos.example`. */
  readonly baseUrl: string;
  /** An admin's access token; called before each page, so it may refresh (`auth.getAccessToken`). */
  readonly getAccessToken: () => string | Promise<string>;
  readonly fetch?: typeof fetch | undefined;
}

export interface PosAuthAuditClient {
  /**
   * The pages of the matching events, in commit order, one request per page as it is asked for,
   * until the end of the log (each page's `nextCursor` resumes after it).
   */
  events(query?: PosAuthAuditQuery): AsyncIterableIterator<PosAuthAuditPage>;
}

const parameters: readonly [keyof PosAuthAuditQuery, string][] = [
  ['userId', 'user_id'],
  ['sessionId', 'session_id'],
  ['clientId', 'client_id'],
  ['ip', 'ip'],
  ['requestId', 'request_id'],
  ['from', 'from'],
  ['to', 'to'],
  ['userName', 'user_name'],
  ['limit', 'limit'],
];

const eventFrom = (value: unknown): PosAuthAuditEvent | null =>
  isRecord(value) &&
  typeof value['position'] === 'string' &&
  typeof value['stream_id'] === 'string' &&
  typeof value['type'] === 'string' &&
  typeof value['recorded_at'] === 'string' &&
  isRecord(value['data']) &&
  isRecord(value['metadata'])
    ? { position: value['position'], streamId: value['stream_id'], type: value['type'], recordedAt: value['recorded_at'], data: value['data'], metadata: value['metadata'] }
    : null;

/**
 * A client of pos-auth's audit API (admins only): walks `GET /audit/events` page by page, following
 * `next_cursor`. A walk never repeats or skips an event, even while events are being appended.
 * Refusals are `PosAuthError`s (401, 403, 400 with `fieldErrors`).
 *
 * @example
 * const audit = createPosAuthAuditClient({ baseUrl, getAccessToken: () => auth.getAccessToken() });
 * for await (const page of audit.events({ userName: 'ana', types: ['LoginFailed'] })) {
 *   for (const event of page.items) console.log(event.recordedAt, event.metadata.ip);
 * }
 */
export const createPosAuthAuditClient = (options: PosAuthAuditClientOptions): PosAuthAuditClient => {
  if (typeof options.baseUrl !== 'string' || options.baseUrl === '') throw new TypeError('createPosAuthAuditClient: baseUrl must be a non-empty string.');
  const baseUrl = options.baseUrl.replace(/\/+$/u, '');
  const send: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const page = async (query: PosAuthAuditQuery, cursor: string | undefined): Promise<PosAuthAuditPage> => {
    const search = new URLSearchParams();
    for (const [name, parameter] of parameters) if (query[name] !== undefined) search.append(parameter, String(query[name]));
    for (const type of query.types ?? []) search.append('type', type);
    if (cursor !== undefined) search.append('cursor', cursor);
    const response = await send(`${baseUrl}/audit/events?${search.toString()}`, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${await options.getAccessToken()}` },
    });
    if (!response.ok) throw await errorFromResponse(response);
    const body: unknown = await response.json().catch(() => undefined);
    const items = isRecord(body) && Array.isArray(body['items']) ? body['items'].map(eventFrom) : null;
    const nextCursor = isRecord(body) ? body['next_cursor'] : undefined;
    if (items === null || items.includes(null) || !(nextCursor === null || typeof nextCursor === 'string')) {
      throw new PosAuthError({
        status: response.status,
        code: 'INVALID_RESPONSE',
        message: `pos-auth answered GET /audit/events with ${response.status} and a body that is not a page of audit events.`,
        requestId: response.headers.get('x-request-id'),
      });
    }
    return { items: items as PosAuthAuditEvent[], nextCursor };
  };

  return {
    async *events(query = {}) {
      let cursor = query.cursor;
      for (;;) {
        const next = await page(query, cursor);
        if (next.nextCursor === null) return;
        yield next;
        cursor = next.nextCursor;
      }
    },
  };
};
