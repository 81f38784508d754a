import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Level, Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Metrics } from './metrics.js';
import type { RouteName } from './routes.js';

/** Why a request was refused, for its log line only: the client was told less. */
export interface Refusal {
  /** The domain's code, or tRPC's, when there is one. */
  readonly code?: string | undefined;
  readonly reason: string;
  /** The tRPC procedure refused, when the request was a tRPC call. */
  readonly procedure?: string | undefined;
}

/** The client a request authenticated as (Basic credentials, or its access token's client), for its log line. */
export const noteClient = (req: Request, clientId: string): void => {
  if (req.res) req.res.locals['clientId'] = clientId;
};

/** A refusal's private reason, kept for the request's log line; a tRPC batch may have several. */
export const noteRefusal = (res: Response, refusal: Refusal): void => {
  const refusals = res.locals['refusals'] as Refusal[] | undefined;
  if (refusals === undefined) res.locals['refusals'] = [refusal];
  else refusals.push(refusal);
};

/** Probes and scrapes come every few seconds; they log at debug unless they fail. */
const quietRoutes = new Set(['/health/live', '/health/ready', '/metrics']);

/** What a request ended with; 499 (nginx's convention): the client closed the connection first. */
const statusOf = (res: Response): number => (res.writableFinished ? res.statusCode : 499);

const messageOf = (res: Response): string => {
  if (!res.writableFinished) return 'request aborted';
  return res.locals['refusals'] === undefined ? 'request completed' : 'request refused';
};

export interface RequestObservation {
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  readonly routeOf: (req: Request) => RouteName;
}

/**
 * One JSON line per request (pino-http) and one observation of the request histogram, both when the
 * response ends. The line holds the request id the app assigned (`X-Request-Id`), method, route
 * pattern (tRPC: procedures), status, latency, the client when one authenticated, and a refusal's
 * code and private reason; never a header, a body or a query string, so no credential can reach
 * it. Levels: 5xx error (503 warn: the database is away, already logged with its cause), the rest
 * info, probes and scrapes debug while they succeed. Mount after the request id middleware.
 *
 * @example
 * app.use(requestId, ...observeRequests({ logger, metrics, routeOf }));
 */
export const observeRequests = ({ logger, metrics, routeOf }: RequestObservation): RequestHandler[] => {
  const lineOf = (req: Request, res: Response) => {
    const { route, procedures } = routeOf(req);
    const clientId = res.locals['clientId'] as string | undefined;
    const refusals = res.locals['refusals'] as Refusal[] | undefined;
    return {
      requestId: res.locals['requestId'] as string,
      method: req.method,
      route,
      ...(procedures === undefined ? {} : { procedures }),
      status: statusOf(res),
      latencyMs: Math.round((performance.now() - (res.locals['startedAt'] as number)) * 100) / 100,
      ...(clientId === undefined ? {} : { clientId }),
      ...(refusals === undefined ? {} : refusals.length === 1 ? refusals[0] : { refusals }),
    };
  };

  const levelOf = (req: Request, res: Response): Level => {
    const status = statusOf(res);
    if (status >= 500) return status === 503 ? 'warn' : 'error';
    return status < 400 && quietRoutes.has(routeOf(req).route) ? 'debug' : 'info';
  };

  const log = pinoHttp<Request, Response>({
    logger,
    // The app's request id (`rest/request.ts`), not a second one.
    genReqId: (_req, res) => res.locals['requestId'] as string,
    // The line is built once, at the end (`lineOf`): the child logger pino-http binds to each
    // request carries nothing, so its creation serializes nothing. Measured: half the CPU time
    // of the default's request and response serializers, and of `quietReqLogger`'s second child.
    wrapSerializers: false,
    serializers: { req: () => undefined },
    // The line has fixed keys, none a header, body or credential field: the app logger's redaction
    // (its second guard) would find nothing there, at about 30 µs per line (measured).
    redact: [],
    customLogLevel: (req, res) => levelOf(req, res),
    customSuccessObject: (req, res) => lineOf(req, res),
    customErrorObject: (req, res) => lineOf(req, res),
    customSuccessMessage: (_req, res) => messageOf(res),
    customErrorMessage: (_req, res) => messageOf(res),
  });

  const time: RequestHandler = (req, res, next) => {
    const startedAt = performance.now();
    res.locals['startedAt'] = startedAt;
    if (metrics !== undefined) {
      res.once('close', () => metrics.requestEnded(req.method, routeOf(req).route, statusOf(res), (performance.now() - startedAt) / 1000));
    }
    next();
  };

  return [time, log];
};
