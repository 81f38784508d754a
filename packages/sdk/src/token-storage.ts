import { tokenSet, type TokenSet as TokenSetView } from '@pos-auth/contract';

/** The tokens of one session, as the token endpoints issued them (the contract's camelCase view). */
export type TokenSet = Readonly<TokenSetView>;

/**
 * Where a client keeps its session's tokens. Synchronous on purpose: the client reads and
 * replaces them inside one turn of the event loop, which is what makes its refresh single-flight
 * within one page or process (see `createPosAuthClient`). `get` returns null when no session is
 * kept.
 */
export interface TokenStorage {
  get(): TokenSet | null;
  set(tokens: TokenSet): void;
  clear(): void;
  /**
   * Present when other tabs of the origin keep their session in the same place (`localStorage`):
   * the client then refreshes in one tab at a time and hears of the others' changes.
   */
  readonly shared?: SharedTokenStorage | undefined;
}

/** A change another tab made to a shared storage: the tokens now kept, and those they replaced. */
export interface TokenChange {
  readonly tokens: TokenSet | null;
  readonly previous: TokenSet | null;
}

/** What a storage that several tabs share tells the client about the others. */
export interface SharedTokenStorage {
  /** The same in every tab that shares the storage, and no other: what the Web Locks of its refreshes are named after. */
  readonly name: string;
  /** Calls `listener` on each change another tab makes (a refresh, a login, a logout); returns what stops it. */
  watch(listener: (change: TokenChange) => void): () => void;
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

/** An entry that is not a token set (an old format, a hand edit) reads as no session rather than as an error. */
const parseTokens = (raw: string | null): TokenSet | null => {
  if (raw === null) return null;
  try {
    const parsed = tokenSet.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
};

/** What the SDK reads of a `StorageEvent`. */
interface StorageChange {
  readonly storageArea: unknown;
  readonly key: string | null;
  readonly oldValue: string | null;
  readonly newValue: string | null;
}

/** The part of a window that tells of other tabs' storage changes (`storage` events). */
interface StorageEvents {
  readonly localStorage: unknown;
  addEventListener(type: 'storage', listener: (event: StorageChange) => void): void;
  removeEventListener(type: 'storage', listener: (event: StorageChange) => void): void;
}

/** This page's window, when `storage` is its `localStorage` (which the origin's tabs share). */
const windowSharing = (storage: WebStorageLike): StorageEvents | null => {
  const scope = globalThis as Partial<StorageEvents>;
  if (typeof scope.addEventListener !== 'function' || typeof scope.removeEventListener !== 'function') return null;
  try {
    // Reading `localStorage` throws where storage is denied (a sandboxed frame, blocked cookies).
    return scope.localStorage === storage ? (scope as StorageEvents) : null;
  } catch {
    return null;
  }
};

/**
 * Keeps the tokens as JSON under one key of a Web Storage: `sessionStorage` keeps one session per
 * tab and survives its reloads; `localStorage` is shared by the origin's tabs, which then keep one
 * session together: they refresh it one tab at a time (Web Locks), take up the tokens another tab
 * got, and hear when another tab logged out or found the session ended (`storage` events). An
 * entry that is not a token set reads as no session rather than as an error.
 *
 * @example
 * const auth = createPosAuthClient({
 *   baseUrl: 'https://auth.pos.example', clientId: 'admin-panel', clientSecret: 'public-secret',
 *   storage: createWebTokenStorage(window.localStorage),
 * });
 */
export const createWebTokenStorage = (storage: WebStorageLike, key = 'pos-auth.tokens'): TokenStorage => {
  const events = windowSharing(storage);
  return {
    get: () => parseTokens(storage.getItem(key)),
    set: (tokens) => storage.setItem(key, JSON.stringify(tokens)),
    clear: () => storage.removeItem(key),
    ...(events === null
      ? {}
      : {
          shared: {
            name: key,
            watch: (listener: (change: TokenChange) => void) => {
              const onStorage = (event: StorageChange) => {
                if (event.storageArea !== storage || event.key !== key) return;
                listener({ tokens: parseTokens(event.newValue), previous: parseTokens(event.oldValue) });
              };
              events.addEventListener('storage', onStorage);
              return () => events.removeEventListener('storage', onStorage);
            },
          },
        }),
  };
};
