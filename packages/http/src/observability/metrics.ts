import {
  ClaimTakenError,
  WrongExpectedVersionError,
  type AuthObserver,
  type LoginOutcome,
  type PasswordHasher,
  type RefreshOutcome,
} from '@pos-auth/domain';
import type { PostgresEventStore } from '@pos-auth/infrastructure';
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const loginOutcomes: readonly LoginOutcome[] = ['success', 'wrong_credentials', 'throttled'];
const refreshOutcomes: readonly RefreshOutcome[] = ['rotated', 'replayed', 'reuse_detected', 'refused'];

/** The service's own metrics and prom-client's process metrics, in one registry per service. */
export interface Metrics {
  readonly registry: Registry;
  /** Counts the use cases' login and refresh outcomes. */
  readonly observer: AuthObserver;
  /** One request that ended (`status` 499: the client went away first), in seconds. */
  requestEnded(method: string, route: string, status: number, seconds: number): void;
  /** The same hasher, each hash and verify timed (queueing for libuv's thread pool included). */
  timePasswordHashing(hasher: PasswordHasher): PasswordHasher;
  /** The same event store, each `append` timed, as the use cases wait for it (a pool wait included). */
  timeAppends(eventStore: PostgresEventStore): PostgresEventStore;
  /** Reports the pool's connections (open, idle) and the requests waiting for one, read at each scrape. */
  watchPool(pool: pg.Pool): void;
}

/** Where a request's latency falls: a refresh takes about 1-3 ms, a login about 10 ms plus queueing. */
const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** argon2id at m=19 MiB, t=2: about 10 ms on an idle core, more when the thread pool queues. */
const hashingBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** One transaction of a few statements: well under a millisecond locally. */
const appendBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const appendOutcomeOf = (error: unknown): 'conflict' | 'failed' =>
  error instanceof WrongExpectedVersionError || error instanceof ClaimTakenError ? 'conflict' : 'failed';

/**
 * The metrics `/metrics` shows (README "Metrics"): requests by route, method and status, logins and
 * refreshes by outcome, argon2 and event-append latencies, the pool's connections, and prom-client's
 * default process metrics. Labels take values from small fixed sets only: route patterns, outcomes;
 * never a user, a token or a raw URL. Nothing here runs on a timer: gauges are read at each scrape.
 *
 * @example
 * const metrics = createMetrics();
 * const deps = await createAuthDeps(pool, { passwordHasher, commonPasswords, settings, metrics });
 * const text = await metrics.registry.metrics();
 */
export const createMetrics = (): Metrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Histogram({
    name: 'pos_auth_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (or tRPC procedure) and status, and how long they took.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: requestBuckets,
    registers: [registry],
  });
  const logins = new Counter({
    name: 'pos_auth_logins_total',
    help: 'Password logins by outcome: success, wrong_credentials (unknown user, wrong password or disabled account alike), throttled.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'pos_auth_refreshes_total',
    help: 'Refreshes by outcome: rotated, replayed (inside the grace window), reuse_detected (the session ended), refused.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const hashing = new Histogram({
    name: 'pos_auth_password_hash_duration_seconds',
    help: 'argon2id hashes and verifies, by operation, and how long each took.',
    labelNames: ['operation'] as const,
    buckets: hashingBuckets,
    registers: [registry],
  });
  const appends = new Histogram({
    name: 'pos_auth_event_append_duration_seconds',
    help: 'Event-store appends by outcome (ok, conflict, failed), and how long each took.',
    labelNames: ['outcome'] as const,
    buckets: appendBuckets,
    registers: [registry],
  });
  // Every outcome shows from the start, at 0, so that a rate over it is defined before the first one.
  for (const outcome of loginOutcomes) logins.inc({ outcome }, 0);
  for (const outcome of refreshOutcomes) refreshes.inc({ outcome }, 0);

  const timed =
    <A extends unknown[], R>(operation: 'hash' | 'verify', work: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = hashing.startTimer({ operation });
      try {
        return await work(...args);
      } finally {
        end();
      }
    };

  return {
    registry,
    observer: {
      loginAttempted: (outcome) => logins.inc({ outcome }),
      refreshAttempted: (outcome) => refreshes.inc({ outcome }),
    },
    requestEnded: (method, route, status, seconds) => requests.observe({ method, route, status }, seconds),
    timePasswordHashing: (hasher) => ({
      hash: timed('hash', (password: string) => hasher.hash(password)),
      verify: timed('verify', (hash: string, password: string) => hasher.verify(hash, password)),
      dummyHash: hasher.dummyHash,
    }),
    timeAppends: (eventStore) => ({
      ...eventStore,
      append: async (writes, options) => {
        const end = appends.startTimer();
        try {
          const versions = await eventStore.append(writes, options);
          end({ outcome: 'ok' });
          return versions;
        } catch (error) {
          end({ outcome: appendOutcomeOf(error) });
          throw error;
        }
      },
    }),
    watchPool: (pool) => {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      gauge('pos_auth_db_pool_connections', 'Connections the database pool holds open, busy or idle.', () => pool.totalCount);
      gauge('pos_auth_db_pool_idle_connections', 'Open connections of the pool that no query is using.', () => pool.idleCount);
      gauge('pos_auth_db_pool_waiting_requests', 'Queries waiting for a connection of the pool.', () => pool.waitingCount);
    },
  };
};
