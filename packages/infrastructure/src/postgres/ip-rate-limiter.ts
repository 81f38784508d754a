import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { createIpDigester, loadServiceKeys } from '../crypto/service-keys.js';

/** What a request costs against its IP's budget, and what came of it. */
export type RateLimitDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Whole seconds until the window ends (at least 1). */
      readonly retryAfterSeconds: number;
      /**
       * True for the one refusal, among every instance's, that went over the budget: the one to log.
       * Later refusals in the window are answered from this instance's memory or the table alike.
       */
      readonly firstInWindow: boolean;
      /** Requests counted in the window, this one included; null when refused from memory, uncounted. */
      readonly count: number | null;
    };

/** A budget of requests per client IP per window, shared by every instance on one database. */
export interface IpRateLimiter {
  /** Requests allowed per IP per window. */
  readonly limit: number;
  readonly windowSeconds: number;
  /** Counts `requests` against `ip`'s budget; throws `RateLimiterUnavailableError` when the count cannot be had. */
  consume(ip: string, requests: number): Promise<RateLimitDecision>;
}

/** The count could not be read or written (the database is unreachable, or refused the statement). */
export class RateLimiterUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the per-IP request count could not be updated', { cause });
  }
  override get name(): string {
    return 'RateLimiterUnavailableError';
  }
}

export interface IpRateLimiterOptions {
  /** Requests allowed per IP per window (`RATE_LIMIT_IP_PER_MINUTE`). */
  readonly limit: number;
  /** The window's length (60: per minute). */
  readonly windowSeconds?: number;
}

/**
 * A per-IP request budget on rate-limiter-flexible's PostgreSQL store, over a fixed window that
 * starts with an IP's first request: one `INSERT ... ON CONFLICT DO UPDATE` per request in the
 * `rate_limits` table (migration 005, UNLOGGED), so the count is shared by every instance on the
 * database. Keys are `ip:` and a keyed hash (the service's IP key) of the address. Once an IP is
 * over its budget, this instance refuses it from memory until the window ends, without a query.
 *
 * @example
 * const limiter = await createPostgresIpRateLimiter(pool, { limit: 600 });
 * const decision = await limiter.consume(req.ip, 1);
 * if (!decision.allowed) res.set('Retry-After', String(decision.retryAfterSeconds)).sendStatus(429);
 */
/**
 * The library does arithmetic on `expire` (int8, epoch milliseconds) as a JS number, while the
 * service's pools read int8 as `bigint`: its queries read int8 as a number (exact below 2^53).
 */
const epochMillisecondsAsNumbers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export const createPostgresIpRateLimiter = async (pool: pg.Pool, options: IpRateLimiterOptions): Promise<IpRateLimiter> => {
  const { limit, windowSeconds = 60 } = options;
  if (!(Number.isInteger(limit) && limit >= 1) || !(Number.isInteger(windowSeconds) && windowSeconds >= 1)) {
    throw new TypeError(`createPostgresIpRateLimiter: limit and windowSeconds must be whole numbers from 1, got ${limit} and ${windowSeconds}`);
  }
  const digest = createIpDigester((await loadServiceKeys(pool)).ipHmac);
  const store = new RateLimiterPostgres({
    // What the library calls is pg's `query(config)`: the pool's, with the type parsers above.
    storeClient: { query: (query: pg.QueryConfig) => pool.query({ ...query, types: epochMillisecondsAsNumbers }) },
    storeType: 'client',
    tableName: 'rate_limits',
    // Created by the migration: the library must not create tables at run time.
    tableCreated: true,
    keyPrefix: 'ip',
    points: limit,
    duration: windowSeconds,
    // The refusal that went over the budget comes from the table (so it is known to be the first);
    // from then on this instance refuses the IP from memory until the window ends.
    inMemoryBlockOnConsumed: limit + 1,
  });
  return {
    limit,
    windowSeconds,
    consume: async (ip, requests) => {
      try {
        await store.consume(digest(ip), requests);
        return { allowed: true };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw new RateLimiterUnavailableError(rejection);
        const counted = rejection.consumedPoints > 0;
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
          firstInWindow: counted && rejection.consumedPoints - requests <= limit,
          count: counted ? rejection.consumedPoints : null,
        };
      }
    },
  };
};
