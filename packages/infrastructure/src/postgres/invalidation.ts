import { randomUUID } from 'node:crypto';
import { isPosAuthEvent, type DomainEvent } from '@pos-auth/domain';
import pg from 'pg';

/**
 * The channel on which an append announces that what a cached token check answered may have
 * changed: the payload is the schema, a nonce, then the keys (`user:<id>`, `client:<id>`),
 * space-separated.
 */
export const invalidationChannel = 'pos_auth_invalidations';

/**
 * What an event changes of a cached token check: its user's (a session ended, a role or profile
 * changed, an account disabled or erased: every access token of that user is checked again), or
 * its client's (the secrets introspection and revocation authenticate with). Logins and refreshes
 * change nothing cached: a new token is not in any cache yet, and an access token stays good after
 * its refresh. Every type is listed, so that a new one is a compile error until it is decided here.
 */
export const invalidationKeysOf = (event: DomainEvent): readonly string[] => {
  if (!isPosAuthEvent(event)) return [];
  switch (event.type) {
    case 'SessionRevoked':
    case 'RefreshTokenReused':
    case 'UserRoleChanged':
    case 'UserDisabled':
    case 'UserEnabled':
    case 'UserProfileChanged':
    case 'PasswordChanged':
    case 'UserErased':
      return [`user:${event.data.userId}`];
    case 'ClientRegistered':
    case 'ClientSecretRotated':
      return [`client:${event.data.clientId}`];
    case 'UserRegistered':
    case 'LoginFailed':
    case 'LoginThrottled':
    case 'FailedLoginsCleared':
    case 'TokenIssued':
    case 'TokenRefreshed':
    case 'AdminRosterOpened':
    case 'ActiveAdminAdded':
    case 'ActiveAdminRemoved':
      return [];
    default:
      return exhaustive(event);
  }
};

const exhaustive = (event: never): never => {
  throw new TypeError(`invalidationKeysOf: no decision for ${(event as DomainEvent).type}`);
};

/**
 * One append's announcement: `pg_notify(invalidationChannel, current_schema() || ' ' || payload)`
 * in its statement (the schema first: instances of other schemas share the channel).
 */
export const invalidationPayload = (keys: readonly string[]): { readonly nonce: string; readonly payload: string } => {
  const nonce = randomUUID();
  return { nonce, payload: [nonce, ...new Set(keys)].join(' ') };
};

export interface InvalidationListener {
  /**
   * True while the listener's connection is LISTENing: only then may anything be cached, since a
   * notification sent while it is away is lost (the caches are emptied when it goes).
   */
  healthy(): boolean;
  /**
   * Counts invalidations and reconnections: a read that began at another generation may predate a
   * change that was announced while it ran, and must not be cached.
   */
  generation(): number;
  /** Calls `listener` with the keys of every announcement (and with `null`: forget everything). */
  subscribe(listener: (keys: readonly string[] | null) => void): void;
  /**
   * Resolves once every instance listening on this schema (this one included) has dropped what the
   * announcement `nonce` names: each confirms it on `invalidationAckChannel` after its caches did.
   * Gives up after `timeoutMs` (told to `onUnconfirmed`): an instance that stopped answering.
   */
  confirmed(nonce: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Where each instance confirms an announcement once its caches have dropped what it names: `<nonce> <instance>`. */
export const invalidationAckChannel = 'pos_auth_invalidation_acks';

export interface InvalidationListenerOptions {
  /** Told when the connection is lost (the caches are off until it is back) and when it is back. */
  readonly onStateChange?: (state: 'lost' | 'listening', error?: Error) => void;
  /** Told when an announcement was not confirmed by every listening instance in time. */
  readonly onUnconfirmed?: (details: { readonly expected: number; readonly confirmed: number }) => void;
  /** Wait before reconnecting, doubled up to 5 s (default 100 ms). */
  readonly retryMs?: number;
}

/** Recent nonces, oldest dropped first: an announcement (or its confirmations) may arrive before anyone waits for it. */
class Recent<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    if (!this.has(key) && this.size >= 1_024) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}

/**
 * LISTENs on `invalidationChannel` on a connection of its own, opened like the pool's, and tells
 * its subscribers about the announcements of its schema (an append writes `<schema> <nonce> <keys>`),
 * then confirms each on `invalidationAckChannel`. Its connection's `application_name` names the
 * schema, so that an appender can count the instances that must confirm. Reconnects by itself;
 * while it is away it reports `healthy() === false`.
 *
 * @example
 * const listener = await startInvalidationListener(pool);
 * const { sessions, clients } = cacheTokenChecks(readModels, listener);
 */
export const startInvalidationListener = async (pool: pg.Pool, options: InvalidationListenerOptions = {}): Promise<InvalidationListener> => {
  const schema = (await pool.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
  const instance = randomUUID();
  // At most 63 bytes are kept; a longer schema name is cut the same way for every instance.
  const applicationName = `pos-auth-invalidations ${schema}`.slice(0, 63);
  const subscribers: Array<(keys: readonly string[] | null) => void> = [];
  const acks = new Recent<Set<string>>();
  const ackWaiters = new Map<string, () => void>();
  let client: pg.Client | null = null;
  let listening = false;
  let generation = 0;
  let stopped = false;
  let retryMs = options.retryMs ?? 100;
  let retryTimer: NodeJS.Timeout | undefined;

  const tell = (keys: readonly string[] | null) => {
    generation += 1;
    for (const subscriber of subscribers) subscriber(keys);
  };

  const lose = (error?: Error) => {
    if (!listening && client === null) return;
    listening = false;
    const lost = client;
    client = null;
    lost?.removeAllListeners('notification');
    lost?.end().catch(() => undefined);
    tell(null);
    options.onStateChange?.('lost', error);
    if (!stopped) retryTimer = setTimeout(() => void connect(), retryMs);
    retryMs = Math.min(retryMs * 2, 5_000);
  };

  const onAnnouncement = (connection: pg.Client, payload: string) => {
    const [announcedIn, nonce, ...keys] = payload.split(' ');
    if (announcedIn !== schema || nonce === undefined) return;
    tell(keys);
    // Dropped: confirm, on the same connection (a lost one confirms nothing; its caches are off).
    connection.query('SELECT pg_notify($1, $2)', [invalidationAckChannel, `${nonce} ${instance}`]).catch(() => undefined);
  };

  const onAck = (payload: string) => {
    const [nonce = '', from = ''] = payload.split(' ');
    let confirmedBy = acks.get(nonce);
    if (confirmedBy === undefined) acks.set(nonce, (confirmedBy = new Set()));
    confirmedBy.add(from);
    ackWaiters.get(nonce)?.();
  };

  const connect = async (): Promise<void> => {
    const connection = new pg.Client({ ...pool.options, application_name: applicationName });
    connection.on('error', (error) => {
      if (client === connection) lose(error);
    });
    connection.on('end', () => {
      if (client === connection) lose(new Error('the invalidation listener connection ended'));
    });
    connection.on('notification', ({ channel, payload }) => {
      if (payload === undefined) return;
      if (channel === invalidationChannel) onAnnouncement(connection, payload);
      else if (channel === invalidationAckChannel) onAck(payload);
    });
    try {
      client = connection;
      await connection.connect();
      await connection.query(`LISTEN ${invalidationChannel}; LISTEN ${invalidationAckChannel}`);
      if (stopped) {
        await connection.end();
        return;
      }
      // Whatever was cached before the connection came back may have missed an announcement.
      tell(null);
      listening = true;
      retryMs = options.retryMs ?? 100;
      options.onStateChange?.('listening');
    } catch (error) {
      if (client === connection) lose(error instanceof Error ? error : new Error(String(error)));
      else await connection.end().catch(() => undefined);
    }
  };

  await connect();

  return {
    healthy: () => listening,
    generation: () => generation,
    subscribe: (listener) => {
      subscribers.push(listener);
    },
    confirmed: async (nonce, timeoutMs = 2_000) => {
      // Counted after the commit: an instance that begins listening later has nothing stale to drop.
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [
        applicationName,
      ]);
      const expected = rows[0]?.n ?? 0;
      const count = () => acks.get(nonce)?.size ?? 0;
      if (count() >= expected) return;
      const done = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        ackWaiters.set(nonce, () => {
          if (count() < expected && !stopped) return;
          clearTimeout(timer);
          resolve(true);
        });
      });
      ackWaiters.delete(nonce);
      if (!done) options.onUnconfirmed?.({ expected, confirmed: count() });
    },
    stop: async () => {
      stopped = true;
      clearTimeout(retryTimer);
      const open = client;
      client = null;
      listening = false;
      for (const resolve of ackWaiters.values()) resolve();
      await open?.end().catch(() => undefined);
    },
  };
};
