/** The tokens of one session, as the token endpoints issued them (camelCase). */
export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Always `"Bearer"` from pos-auth. */
  readonly tokenType: string;
  /** Seconds the access token was valid for when it was issued. */
  readonly expiresIn: number;
  /** When the access token stops working, ISO 8601 UTC (the server's `expires_at`). */
  readonly expiresAt: string;
  readonly scope?: string;
}

/**
 * Where a client keeps its session's tokens. Synchronous on purpose: the client reads and
 * replaces them inside one turn of the event loop, which is what makes its refresh single-flight
 * (see `createPosAuthClient`). `get` returns null when no session is kept.
 */
export interface TokenStorage {
  get(): TokenSet | null;
  set(tokens: TokenSet): void;
  clear(): void;
}

/**
 * Keeps the tokens in memory: the default, gone when the page or process goes.
 *
 * @example
 * const auth = createPosAuthClient({ baseUrl, clientId, clientSecret, storage: createMemoryTokenStorage() });
 */
export const createMemoryTokenStorage = (): TokenStorage => {
  let kept: TokenSet | null = null;
  return {
    get: () => kept,
    set: (tokens) => {
      kept = tokens;
    },
    clear: () => {
      kept = null;
    },
  };
};

/** What `createWebTokenStorage` needs of `sessionStorage` / `localStorage`. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const isTokenSet = (value: unknown): value is TokenSet => {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record['accessToken'] === 'string' &&
    typeof record['refreshToken'] === 'string' &&
    typeof record['tokenType'] === 'string' &&
    typeof record['expiresIn'] === 'number' &&
    typeof record['expiresAt'] === 'string' &&
    (record['scope'] === undefined || typeof record['scope'] === 'string')
  );
};

/**
 * Keeps the tokens as JSON under one key of a Web Storage (`sessionStorage` survives a reload of
 * the tab, `localStorage` is shared by the origin's tabs). An entry that is not a token set (an
 * old format, a hand edit) reads as no session rather than as an error.
 *
 * @example
 * const auth = createPosAuthClient({
 *   baseUrl: 'https://auth.pos.example', clientId: 'admin-panel', clientSecret: 'public-secret',
 *   storage: createWebTokenStorage(window.sessionStorage),
 * });
 */
export const createWebTokenStorage = (storage: WebStorageLike, key = 'pos-auth.tokens'): TokenStorage => ({
  get: () => {
    const raw = storage.getItem(key);
    if (raw === null) return null;
    try {
      const parsed: unknown = JSON.parse(raw);
      return isTokenSet(parsed) ? parsed : null;
    } catch {
      return null;
    }
  },
  set: (tokens) => storage.setItem(key, JSON.stringify(tokens)),
  clear: () => storage.removeItem(key),
});
