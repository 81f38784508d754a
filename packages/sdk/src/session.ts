import { PosAuthError, notAuthenticated } from './errors.js';
import { discard, errorFromResponse, readReply } from './replies.js';
import { refreshInTurn, type WebLocks } from './tab-turns.js';
import type { TokenChange, TokenSet, TokenStorage } from './token-storage.js';

/** Why `onSessionEnded` was called. */
export type SessionEndReason =
  /** A refresh was refused with `invalid_grant`: the session was revoked or ended, or its refresh token expired or was reused. */
  | 'refresh_refused'
  /** A request was refused with 401 again after a refresh. */
  | 'access_refused'
  /** Another tab sharing the storage logged out, or found the session ended. */
  | 'ended_in_another_tab';

/** What `onSessionEnded` is called with. */
export interface SessionEnded {
  readonly reason: SessionEndReason;
  /** The refusal that told this tab; null when another tab was told. */
  readonly error: PosAuthError | null;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface SessionOptions {
  readonly baseUrl: string;
  readonly send: typeof fetch;
  readonly storage: TokenStorage;
  readonly now: () => number;
  readonly skewSeconds: number;
  /** Web Locks for refreshing a shared storage's session one tab at a time; null for none. */
  readonly locks: WebLocks | null;
}

/**
 * The session that a REST client keeps: its tokens in `storage`, the refresh that keeps them
 * fresh (single-flight in this page or process, one tab at a time across the tabs that share a
 * storage when Web Locks are at hand), the one retry after a 401, and the end of the session
 * that the server decided, which forgets the tokens and is told to `onSessionEnded` listeners
 * once. Everything else about the client is in `createPosAuthClient`.
 *
 * @example
 * const session = createSession({ baseUrl, send: fetch, storage, now: Date.now, skewSeconds: 30, locks: null });
 * const response = await session.withAccessToken((authorization) => session.request('GET', '/users/me', authorization));
 */
export const createSession = (options: SessionOptions) => {
  const { baseUrl, send, storage, now, skewSeconds, locks } = options;

  const request = (method: HttpMethod, path: string, authorization: string | null, body?: object) =>
    send(`${baseUrl}${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(authorization === null ? {} : { Authorization: authorization }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const listeners = new Set<(ended: SessionEnded) => void>();
  // The refresh token of the last session whose end was told, so that it is told once.
  let toldFor: string | null = null;

  const tell = (ended: TokenSet, event: SessionEnded) => {
    if (toldFor === ended.refreshToken) return;
    toldFor = ended.refreshToken;
    // Later, so that a listener that throws cannot turn the refusal the caller gets into its own error.
    for (const listener of listeners) queueMicrotask(() => listener(event));
  };

  /** Forgets the kept session if it is the one `isEnded` recognises, and tells the listeners. */
  const end = (isEnded: (kept: TokenSet) => boolean, reason: SessionEndReason, error: PosAuthError) => {
    const kept = storage.get();
    if (kept === null || !isEnded(kept)) return;
    storage.clear();
    tell(kept, { reason, error });
  };

  const onOtherTab = ({ tokens, previous }: TokenChange) => {
    if (tokens === null && previous !== null) tell(previous, { reason: 'ended_in_another_tab', error: null });
  };
  let stopWatching: (() => void) | null = null;

  /** Adds a listener; the other tabs are watched while there is one. Returns what removes it. */
  const onSessionEnded = (listener: (ended: SessionEnded) => void): (() => void) => {
    const entry = (ended: SessionEnded) => listener(ended);
    listeners.add(entry);
    stopWatching ??= storage.shared?.watch(onOtherTab) ?? null;
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && stopWatching !== null) {
        stopWatching();
        stopWatching = null;
      }
    };
  };

  /** `POST /auth/refresh-token` with `kept`'s refresh token; keeps the new tokens if `kept` is still the session kept. */
  const sendRefresh = async (kept: TokenSet): Promise<TokenSet> => {
    const response = await request('POST', '/auth/refresh-token', null, { refresh_token: kept.refreshToken });
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (error.code === 'invalid_grant') {
        // Only the session this refresh presented ends: a login may have put a newer one there meanwhile.
        const current = storage.get();
        if (current !== null && current.refreshToken !== kept.refreshToken) return current;
        end((held) => held.refreshToken === kept.refreshToken, 'refresh_refused', error);
      }
      throw error;
    }
    const tokens = await readReply('POST /auth/refresh-token', response);
    if (storage.get()?.refreshToken === kept.refreshToken) storage.set(tokens);
    return tokens;
  };

  // The refresh in flight, keyed by the refresh token it presented. Set in the same turn as the
  // check that found none, so no second refresh of that token can start here until it settles.
  let refreshing: { readonly from: string; readonly tokens: Promise<TokenSet> } | null = null;

  /** The refresh in flight for the kept session, if any (not one of a session since replaced). */
  const inFlightFor = (kept: TokenSet): Promise<TokenSet> | null =>
    refreshing !== null && refreshing.from === kept.refreshToken ? refreshing.tokens : null;

  const shared = storage.shared;
  const refreshOnce = locks === null || shared === undefined ? sendRefresh : (kept: TokenSet) => refreshInTurn(locks, storage, shared, kept, sendRefresh);

  /** Rotates `kept`, joining the refresh of it already in flight. */
  const rotate = (kept: TokenSet): Promise<TokenSet> => {
    const joined = inFlightFor(kept);
    if (joined !== null) return joined;
    const entry = {
      from: kept.refreshToken,
      tokens: refreshOnce(kept).finally(() => {
        if (refreshing === entry) refreshing = null;
      }),
    };
    refreshing = entry;
    return entry.tokens;
  };

  const kept = (): TokenSet => {
    const tokens = storage.get();
    if (tokens === null) throw notAuthenticated();
    return tokens;
  };

  const expiresSoon = (tokens: TokenSet): boolean =>
    // Written so that an unreadable `expiresAt` (NaN) counts as expiring.
    !(Date.parse(tokens.expiresAt) - now() > skewSeconds * 1000);

  const getAccessToken = async (): Promise<string> => {
    const tokens = kept();
    const inFlight = inFlightFor(tokens);
    if (inFlight !== null) return (await inFlight).accessToken;
    if (expiresSoon(tokens)) return (await rotate(tokens)).accessToken;
    return tokens.accessToken;
  };

  /** After the server refused `used`: a token it has not refused yet, refreshing only if nobody has. */
  const replacementFor = async (used: string): Promise<string> => {
    const tokens = kept();
    const inFlight = inFlightFor(tokens);
    if (inFlight !== null) return (await inFlight).accessToken;
    if (tokens.accessToken !== used) return tokens.accessToken;
    return (await rotate(tokens)).accessToken;
  };

  /**
   * Sends with the access token; on a 401, once more with a refreshed one. A second 401 means the
   * server ended the session: it is forgotten and the refusal thrown.
   */
  const withAccessToken = async (attempt: (authorization: string) => Promise<Response>): Promise<Response> => {
    const used = await getAccessToken();
    const first = await attempt(`Bearer ${used}`);
    if (first.status !== 401) return first;
    await discard(first);
    const retried = await replacementFor(used);
    const second = await attempt(`Bearer ${retried}`);
    if (second.status !== 401) return second;
    const error = await errorFromResponse(second);
    end((held) => held.accessToken === retried, 'access_refused', error);
    throw error;
  };

  return {
    request,
    withAccessToken,
    getAccessToken,
    onSessionEnded,
    refresh: async (): Promise<TokenSet> => rotate(kept()),
    /** Keeps the tokens of a new session (a login). */
    keep: (tokens: TokenSet) => storage.set(tokens),
    /** Forgets the kept session if it is still one that sent one of `accessTokens` (not a newer login). */
    forget: (accessTokens: readonly string[]) => {
      const tokens = storage.get();
      if (tokens !== null && accessTokens.includes(tokens.accessToken)) storage.clear();
    },
    get tokens() {
      return storage.get();
    },
  };
};
