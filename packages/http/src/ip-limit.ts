import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IpRateLimiter } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';

/**
 * A request beyond its client IP's budget (API.md "Abuse limits"): 429 with `Retry-After` on
 * every transport. Logged where it is decided (`ipLimit`), once per IP and window at info.
 */
export class IpRateLimitedError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    /** For the log only. */
    readonly reason: string,
  ) {
    super('Too many requests from this address. Try again later.');
  }
  override get name(): string {
    return 'IpRateLimitedError';
  }
}

/** The client IP as express's `trust proxy` setting decides it. */
const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/**
 * The calls a tRPC request carries, read from its path as tRPC reads it: a batch
 * (`?batch=1`) names its procedures comma-separated, after percent-decoding.
 */
export const trpcCallsOf = (req: Request): number => {
  if (new URLSearchParams(req.originalUrl.split('?')[1] ?? '').get('batch') !== '1') return 1;
  const path = req.path.slice(req.path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(path).split(',').length;
  } catch {
    // tRPC refuses the path itself; the request still counts.
    return 1;
  }
};

export interface IpLimit {
  /** For the REST routes: each request counts one. */
  readonly rest: RequestHandler;
  /** For tRPC (its adapter's `middleware`): a POST (a mutation) counts one per call; queries do not count. */
  readonly trpc: (req: Request, res: Response, next: NextFunction) => void;
}

/**
 * The per-IP limit as express middleware. A refusal is passed on as `IpRateLimitedError`, which
 * each transport answers in its own shape; a limiter that cannot count passes its error on too
 * (503). The refusal that goes over an IP's budget is logged at info with the IP and the count;
 * the rest of the window's refusals at debug, so a flood does not flood the log.
 *
 * @example
 * const limit = ipLimit(await createPostgresIpRateLimiter(pool, { limit: 600 }), logger);
 * app.use(['/auth', '/oauth'], limit.rest);
 */
export const ipLimit = (limiter: IpRateLimiter, logger: Logger): IpLimit => {
  const check = (req: Request, res: Response, next: NextFunction, requests: number) => {
    const ip = clientIp(req);
    limiter.consume(ip, requests).then((decision) => {
      if (decision.allowed) return next();
      const fields = { requestId: res.locals['requestId'], ip, count: decision.count, limit: limiter.limit, retryAfter: decision.retryAfterSeconds };
      if (decision.firstInWindow) logger.info(fields, 'per-IP limit reached: this address is refused until its window ends');
      else logger.debug(fields, 'request refused: per-IP limit');
      const counted = decision.count === null ? 'over the limit' : `${decision.count} requests`;
      next(new IpRateLimitedError(decision.retryAfterSeconds, `per-IP limit: ${counted} from ${ip} in the window (limit ${limiter.limit})`));
    }, next);
  };
  return {
    rest: (req, res, next) => check(req, res, next, 1),
    trpc: (req, res, next) => (req.method === 'POST' ? check(req, res, next, trpcCallsOf(req)) : next()),
  };
};
