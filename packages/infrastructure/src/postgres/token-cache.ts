import type { AccessTokenView, ClientReadModel, ClientSecrets, SessionReadModel, TokenDigest } from '@pos-auth/domain';
import type { InvalidationListener } from './invalidation.js';

export interface TokenCacheOptions {
  /** Entries kept at most, per cache; the oldest go first (default 10,000). */
  readonly maxEntries?: number;
  /** How long an entry answers at most (default 10 s): a bound on what a missed announcement could cost. */
  readonly maxAgeMs?: number;
  /** The cache's own clock (ms), for its entries' age; the domain still checks each token's expiry against its clock. */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly until: number;
  /** The invalidation key that drops it (`user:<id>`, `client:<id>`). */
  readonly key: string;
}

/**
 * A bounded map of the answers of one lookup, dropped by invalidation key. A lookup's answer is
 * kept only if no announcement (nor a lost listener connection) came while it was read: the
 * database may have answered from before a change that the announcement was for.
 */
class AnnouncedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly byKey = new Map<string, Set<string>>();

  constructor(
    private readonly listener: InvalidationListener,
    private readonly options: Required<TokenCacheOptions>,
  ) {
    listener.subscribe((keys) => {
      if (keys === null) this.clear();
      else for (const key of keys) this.drop(key);
    });
  }

  async get(id: string, read: () => Promise<V | null>, keyOf: (value: V) => string, untilOf: (value: V) => number = () => Infinity): Promise<V | null> {
    const now = this.options.now();
    const hit = this.entries.get(id);
    if (hit !== undefined && hit.until > now && this.listener.healthy()) return hit.value;
    const generation = this.listener.generation();
    const value = await read();
    if (value !== null && this.listener.healthy() && this.listener.generation() === generation) {
      this.set(id, { value, key: keyOf(value), until: Math.min(now + this.options.maxAgeMs, untilOf(value)) });
    }
    return value;
  }

  private set(id: string, entry: Entry<V>) {
    this.remove(id);
    if (this.entries.size >= this.options.maxEntries) this.remove(this.entries.keys().next().value as string);
    this.entries.set(id, entry);
    let ids = this.byKey.get(entry.key);
    if (ids === undefined) this.byKey.set(entry.key, (ids = new Set()));
    ids.add(id);
  }

  private remove(id: string) {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    const ids = this.byKey.get(entry.key);
    ids?.delete(id);
    if (ids?.size === 0) this.byKey.delete(entry.key);
  }

  private drop(key: string) {
    for (const id of this.byKey.get(key) ?? []) this.entries.delete(id);
    this.byKey.delete(key);
  }

  private clear() {
    this.entries.clear();
    this.byKey.clear();
  }
}

/**
 * The token checks of `GET /users/me`, introspection and revocation without a database read while
 * nothing changed: an access token's check (`findAccessToken`, positive answers only: an unknown
 * token always reaches the database) and a client's secrets (`findClientSecrets`), cached in this
 * process. Every change that could alter an answer is announced by the append that makes it, at
 * its commit (`invalidationKeysOf`), and drops the answers of its user or client on every
 * instance; while the listener's connection is away nothing is cached. Everything else passes
 * through.
 *
 * @example
 * const listener = await startInvalidationListener(pool);
 * const { sessions, clients } = cacheTokenChecks(readModels, listener);
 */
export const cacheTokenChecks = (
  models: { readonly sessions: SessionReadModel; readonly clients: ClientReadModel },
  listener: InvalidationListener,
  options: TokenCacheOptions = {},
): { readonly sessions: SessionReadModel; readonly clients: ClientReadModel } => {
  const settings = { maxEntries: 10_000, maxAgeMs: 10_000, now: Date.now, ...options };
  const accessTokens = new AnnouncedCache<AccessTokenView>(listener, settings);
  const clientSecrets = new AnnouncedCache<ClientSecrets>(listener, settings);
  const { sessions, clients } = models;
  return {
    sessions: {
      findByRefreshTokenDigest: (digest) => sessions.findByRefreshTokenDigest(digest),
      findSessionByTokenDigest: (digest) => sessions.findSessionByTokenDigest(digest),
      listActiveSessions: (userId, now) => sessions.listActiveSessions(userId, now),
      findAccessToken: (digest: TokenDigest) =>
        accessTokens.get(
          digest,
          () => sessions.findAccessToken(digest),
          (token) => `user:${token.holder.id}`,
          (token) => token.expiresAt.getTime(),
        ),
    },
    clients: {
      listClients: () => clients.listClients(),
      findClientSecrets: (clientId) =>
        clientSecrets.get(
          clientId,
          () => clients.findClientSecrets(clientId),
          () => `client:${clientId}`,
          // The replaced secret stops working at the end of its overlap: the entry ends with it.
          (secrets) => secrets.previous?.validUntil.getTime() ?? Infinity,
        ),
    },
  };
};
