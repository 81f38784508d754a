import { notAuthenticated } from './errors.js';
import type { SharedTokenStorage, TokenSet, TokenStorage } from './token-storage.js';

/**
 * What the client needs of the Web Locks API; `navigator.locks` is one. Locks are per origin and
 * granted in the order asked, across the origin's tabs and workers.
 */
export interface WebLocks {
  request(name: string, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
  request(name: string, options: { readonly ifAvailable: true }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
  query(): Promise<{ readonly held?: readonly { readonly name?: string | undefined }[] | undefined }>;
}

/** This page's `navigator.locks`, where there is one (browsers since 2022; not Node 20). */
export const globalWebLocks = (): WebLocks | null => (globalThis as { navigator?: { locks?: WebLocks } }).navigator?.locks ?? null;

/**
 * How long a tab that rotated a refresh token says so, and how long another tab that finds that
 * said waits to see the new tokens in the storage before it refreshes after all.
 */
export const tabTurnTimings = { rotatedHeldMs: 10_000, storageWaitMs: 1_000, storagePollMs: 20 } as const;

/** A short, stable tag of a refresh token, so that lock names never carry the token itself. */
const fingerprint = (token: string): string => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < token.length; index++) {
    hash = Math.imul(hash ^ token.charCodeAt(index), 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
};

const sleep = (ms: number, unref = false) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    // A page has no use for this; a process must not be kept alive by a mark it no longer needs.
    if (unref) (timer as { unref?: () => void }).unref?.();
  });

/**
 * Refreshes a session that several tabs share, one tab at a time: `refresh(kept)` runs under the
 * Web Lock `pos-auth.refresh:<storage name>`, and only when, inside the lock, the storage still
 * holds `kept`. Otherwise another tab refreshed meanwhile (or logged in, or out): its tokens are
 * the answer and nothing is sent.
 *
 * One more check covers a browser whose copy of `localStorage` lags behind another tab's write
 * (Chromium delivers those writes to other renderer processes asynchronously, while the lock is
 * granted through another channel): a tab that rotated a token holds a second lock named after
 * it, `pos-auth.rotated:<storage name>:<tag>`, for `rotatedHeldMs`, taking it before it lets the
 * turn go. Locks are granted in order, so a tab that finds that lock held knows that its copy is
 * stale, and waits up to `storageWaitMs` for the new tokens to reach it; only if they do not does
 * it refresh (which the server's grace window answers with the same tokens). Where the browser
 * refuses the lock itself, it refreshes without a turn.
 *
 * @example
 * const tokens = await refreshInTurn(navigator.locks, storage, storage.shared, kept, sendRefresh);
 */
export const refreshInTurn = async (
  locks: WebLocks,
  storage: TokenStorage,
  shared: SharedTokenStorage,
  kept: TokenSet,
  refresh: (kept: TokenSet) => Promise<TokenSet>,
): Promise<TokenSet> => {
  const rotatedName = `pos-auth.rotated:${shared.name}:${fingerprint(kept.refreshToken)}`;

  /** What the storage holds once it no longer holds `kept`; undefined if that did not happen in time. */
  const movedOn = async (): Promise<TokenSet | null | undefined> => {
    for (let waited = 0; waited < tabTurnTimings.storageWaitMs; waited += tabTurnTimings.storagePollMs) {
      await sleep(tabTurnTimings.storagePollMs);
      const now = storage.get();
      if (now?.refreshToken !== kept.refreshToken) return now;
    }
    return undefined;
  };

  const inTurn = async (): Promise<TokenSet> => {
    const current = storage.get();
    if (current === null) throw notAuthenticated();
    if (current.refreshToken !== kept.refreshToken) return current;
    const { held = [] } = await locks.query();
    if (held.some((lock) => lock.name === rotatedName)) {
      const seen = await movedOn();
      if (seen === null) throw notAuthenticated();
      if (seen !== undefined) return seen;
    }
    const tokens = await refresh(kept);
    // Taken before the turn is let go, so that whoever gets the turn next finds it held.
    await new Promise<void>((taken) => {
      locks
        .request(rotatedName, { ifAvailable: true }, async () => {
          taken();
          await sleep(tabTurnTimings.rotatedHeldMs, true);
        })
        .catch(() => taken());
    });
    return tokens;
  };

  let outcome: TokenSet | undefined;
  let entered = false;
  try {
    await locks.request(`pos-auth.refresh:${shared.name}`, async () => {
      entered = true;
      outcome = await inTurn();
    });
  } catch (error) {
    if (entered) throw error;
    // The browser refused the lock itself (an opaque origin, a sandboxed frame): refresh as a page
    // without Web Locks does, which the server's grace window answers alike for every tab.
    return refresh(kept);
  }
  return outcome!;
};
