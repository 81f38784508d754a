import { describe, expect, it } from 'vitest';
import { PosAuthError } from './errors.js';
import { refreshInTurn, tabTurnTimings, type WebLocks } from './tab-turns.js';
import type { SharedTokenStorage, TokenSet, TokenStorage } from './token-storage.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exclusive locks granted in the order asked, with `ifAvailable` and `query`: the Web Locks API's semantics, in one process. */
const createLocks = (): WebLocks => {
  const held = new Set<string>();
  const waiting = new Map<string, (() => void)[]>();
  const acquire = (name: string) =>
    new Promise<void>((granted) => {
      if (!held.has(name)) {
        held.add(name);
        granted();
      } else waiting.set(name, [...(waiting.get(name) ?? []), granted]);
    });
  const release = (name: string) => {
    const [next, ...rest] = waiting.get(name) ?? [];
    waiting.set(name, rest);
    if (next === undefined) held.delete(name);
    else next();
  };
  const request = async (name: string, ...args: unknown[]) => {
    const callback = args.at(-1) as (lock: unknown) => Promise<unknown>;
    const ifAvailable = args.length === 2 && (args[0] as { ifAvailable?: boolean }).ifAvailable === true;
    if (ifAvailable && held.has(name)) return callback(null);
    await acquire(name);
    try {
      return await callback({ name });
    } finally {
      release(name);
    }
  };
  return { request, query: async () => ({ held: [...held].map((name) => ({ name })) }) } as WebLocks;
};

const tokens = (generation: number): TokenSet => ({
  accessToken: `access-${generation}`,
  refreshToken: `refresh-${generation}`,
  tokenType: 'Bearer',
  expiresIn: 1800,
  expiresAt: '2030-01-01T00:30:00.000Z',
});

/**
 * One `localStorage` shared by tabs, each with its own copy that another tab's write reaches
 * `lagMs` later, as Chromium delivers writes to other renderer processes.
 */
const createSharedStorage = (initial: TokenSet) => {
  let stored: TokenSet | null = initial;
  const copies: { see: (tokens: TokenSet | null) => void }[] = [];
  const shared: SharedTokenStorage = { name: 'pos-auth.tokens', watch: () => () => undefined };
  const tab = (lagMs = 0): TokenStorage => {
    let copy: TokenSet | null = stored;
    const see = (tokens: TokenSet | null) => {
      if (lagMs === 0) copy = tokens;
      else setTimeout(() => (copy = tokens), lagMs);
    };
    const self = { see };
    copies.push(self);
    const write = (tokens: TokenSet | null) => {
      copy = tokens;
      stored = tokens;
      for (const other of copies) if (other !== self) other.see(tokens);
    };
    return { get: () => copy, set: write, clear: () => write(null), shared };
  };
  return { tab, shared };
};

/** The server's side: a refresh that takes `ms`, counted, keeping the child in the tab's storage as the client does. */
const createRefresher = (ms = 50) => {
  let sent = 0;
  return {
    get sent() {
      return sent;
    },
    for: (storage: TokenStorage) => async (kept: TokenSet) => {
      sent++;
      await sleep(ms);
      const child = tokens(Number(kept.refreshToken.split('-')[1]) + 1);
      if (storage.get()?.refreshToken === kept.refreshToken) storage.set(child);
      return child;
    },
  };
};

describe('refreshing one tab at a time (Web Locks semantics, simulated)', () => {
  it('sends one refresh for two tabs that need one at once; the second takes up the first one’s tokens', async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const locks = createLocks();
    const refresher = createRefresher();
    const [a, b] = [tab(), tab()];

    const [fromA, fromB] = await Promise.all([
      refreshInTurn(locks, a, shared, tokens(0), refresher.for(a)),
      refreshInTurn(locks, b, shared, tokens(0), refresher.for(b)),
    ]);

    expect(refresher.sent).toBe(1);
    expect(fromA).toEqual(tokens(1));
    expect(fromB).toEqual(tokens(1));
  });

  it('waits for a lagging copy of the storage when the tab before it rotated that token, and sends nothing', async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const locks = createLocks();
    const refresher = createRefresher();
    const a = tab();
    const b = tab(200); // sees A's write 200 ms after it, long after A let the turn go

    const [fromA, fromB] = await Promise.all([
      refreshInTurn(locks, a, shared, tokens(0), refresher.for(a)),
      refreshInTurn(locks, b, shared, tokens(0), refresher.for(b)),
    ]);

    expect(refresher.sent).toBe(1);
    expect(fromB).toEqual(fromA);
  });

  it(`refreshes after all when its copy still lags after ${tabTurnTimings.storageWaitMs} ms (the server's grace window answers alike)`, async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const locks = createLocks();
    const refresher = createRefresher();
    const a = tab();
    const b = tab(tabTurnTimings.storageWaitMs + 300);

    await Promise.all([
      refreshInTurn(locks, a, shared, tokens(0), refresher.for(a)),
      refreshInTurn(locks, b, shared, tokens(0), refresher.for(b)),
    ]);

    expect(refresher.sent).toBe(2);
  });

  it('refreshes in the next tab when the tab before it failed to (no rotation was said)', async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const locks = createLocks();
    const refresher = createRefresher();
    const [a, b] = [tab(), tab()];
    const failing = async () => {
      await sleep(20);
      throw new TypeError('fetch failed');
    };

    const [fromA, fromB] = await Promise.allSettled([
      refreshInTurn(locks, a, shared, tokens(0), failing),
      refreshInTurn(locks, b, shared, tokens(0), refresher.for(b)),
    ]);

    expect(fromA).toMatchObject({ status: 'rejected', reason: { message: 'fetch failed' } });
    expect(fromB).toEqual({ status: 'fulfilled', value: tokens(1) });
    expect(refresher.sent).toBe(1);
  });

  it('sends nothing and says no session is kept when another tab removed it before this one’s turn', async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const locks = createLocks();
    const refresher = createRefresher();
    const [a, b] = [tab(), tab()];
    a.clear();

    const refusal = await refreshInTurn(locks, b, shared, tokens(0), refresher.for(b)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PosAuthError);
    expect(refusal).toMatchObject({ code: 'NOT_AUTHENTICATED' });
    expect(refresher.sent).toBe(0);
  });

  it('refreshes without a turn when the browser refuses the lock itself (an opaque origin)', async () => {
    const { tab, shared } = createSharedStorage(tokens(0));
    const refusing = { request: async () => Promise.reject(new Error('SecurityError: the origin is opaque')), query: async () => ({}) } as unknown as WebLocks;
    const refresher = createRefresher();
    const a = tab();

    expect(await refreshInTurn(refusing, a, shared, tokens(0), refresher.for(a))).toEqual(tokens(1));
    expect(refresher.sent).toBe(1);
  });
});
