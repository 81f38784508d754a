import { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import cors from 'cors';
import express, { type Express, type Request, type Response } from 'express';
import type { AuthDeps } from '@pos-auth/domain';
import type { IpRateLimiter, SigningKeys } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import { ipLimit } from '../ip-limit.js';
import type { Metrics } from '../observability/metrics.js';
import { metricsPath, type scrapeMetrics } from '../observability/metrics-endpoint.js';
import { noteRefusal, observeRequests, type Refusal } from '../observability/requests.js';
import { createRouteNamer, unknownProcedure } from '../observability/routes.js';
import { appRouter } from '../trpc/router.js';
import { createContextFactory, trpcErrorOf } from '../trpc/init.js';
import { unavailabilityOf } from '../unavailable.js';
import { auditRoutes } from './audit.routes.js';
import { authRoutes, tokenEndpoints } from './auth.routes.js';
import { docsRoutes } from './docs.routes.js';
import { errorHandler, methodNotAllowed, notFound, oauthErrors, retryAfterSeconds } from './errors.js';
import { securityHeaders } from './headers.js';
import { jwksRoutes } from './jwks.routes.js';
import { sendProblem, statusProblem } from './problem.js';
import { oauthRoutes } from './oauth.routes.js';
import { requestId } from './request.js';
import { sessionsRoutes } from './sessions.routes.js';
import { usersRoutes } from './users.routes.js';

/** The most calls one tRPC batch may carry (API.md "Abuse limits"). */
const trpcMaxBatchSize = 10;

/**
 * tRPC reads its bodies raw: an encoded (gzip, ...) body would only fail as unparsable JSON, so
 * any Content-Encoding but identity is refused as what it is, 415.
 */
const refuseContentEncoding = (req: Request, _res: unknown, next: (error?: unknown) => void): void => {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return next();
  next(new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Encoding is not supported here; send the body unencoded.' }));
};

/**
 * A refusal's private reason, for the log: the domain's when it has one, else the message; but
 * never a JSON parser's message, which quotes the body (where a password may be).
 */
const reasonOf = (error: TRPCError): string => {
  const cause = error.cause as { reason?: unknown } | undefined;
  if (typeof cause?.reason === 'string') return cause.reason;
  return error.cause instanceof SyntaxError ? 'unparsable_json' : error.message;
};

/**
 * What a tRPC answer asks the caller to wait, in whole seconds, or null: the longest wait any of
 * its errors asks for (a 503's, or a 429's back-off or per-IP window).
 */
const retryAfterOf = (errors: readonly TRPCError[]): number | null => {
  const waits = errors.flatMap((error) => {
    if (error.code === 'SERVICE_UNAVAILABLE') return [retryAfterSeconds];
    const cause = error.cause as { retryAfterSeconds?: unknown } | undefined;
    return error.code === 'TOO_MANY_REQUESTS' && typeof cause?.retryAfterSeconds === 'number' ? [cause.retryAfterSeconds] : [];
  });
  return waits.length === 0 ? null : Math.max(...waits);
};

/** A refused tRPC call, for the request's log line. A path that names no procedure is the caller's text: not logged. */
const refusalOf = (error: TRPCError, path: string | undefined): Refusal =>
  path === undefined || Object.hasOwn(appRouter._def.procedures, path)
    ? { procedure: path, code: error.code, reason: reasonOf(error) }
    : { procedure: unknownProcedure, code: error.code, reason: 'unknown_procedure' };

export interface AppOptions {
  readonly deps: AuthDeps;
  readonly logger: Logger;
  /** Browser origins allowed to call with credentials; none by default. */
  readonly corsOrigins?: readonly string[];
  /** Express's `trust proxy`, for the client IP recorded in event metadata. */
  readonly trustProxy?: string | false;
  /** Whether the database is reachable and migrated. */
  readonly isReady: () => Promise<boolean>;
  /** The public base URL, no trailing slash: the RFC 8414 `issuer` and the base of its endpoints. */
  readonly issuer: string;
  /** The keys that verify JWT access tokens, for the JWKS. */
  readonly signingKeys: Pick<SigningKeys, 'publishedKeys'>;
  /** The per-IP budget of `POST /users`, `/auth/*`, `/oauth/*` and tRPC mutations; none when absent. */
  readonly ipLimiter?: IpRateLimiter | undefined;
  /** Where each request's duration is counted. */
  readonly metrics?: Metrics | undefined;
  /** Answers `GET /metrics` on this app; absent: not here (a port of its own, or no metrics). */
  readonly metricsEndpoint?: ReturnType<typeof scrapeMetrics> | undefined;
}

/**
 * The HTTP application: the REST endpoints of API.md and the tRPC router at `/trpc`, both thin
 * over the same use cases, and their OpenAPI document (`/openapi.json`) with a reference page
 * (`/docs`). Everything else it answers, errors included, is JSON.
 *
 * @example
 * const app = createApp({ deps, logger, isReady: async () => true, issuer: 'https://auth.pos.example', signingKeys: deps.signingKeys });
 * app.listen(3000);
 */
export const createApp = (options: AppOptions): Express => {
  const { deps, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.set('etag', false);

  const routeOf = createRouteNamer('/trpc', Object.keys(appRouter._def.procedures), trpcMaxBatchSize);
  app.use(requestId, observeRequests({ logger, metrics: options.metrics, routeOf }));
  app.use(securityHeaders);
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...options.corsOrigins],
        credentials: true,
        exposedHeaders: ['Location', 'WWW-Authenticate', 'X-Request-Id'],
        maxAge: 600,
      }),
    );
  }

  app
    .route('/health/live')
    .get((_req, res) => {
      res.json({ status: 'live' });
    })
    .all(methodNotAllowed('GET'));
  app
    .route('/health/ready')
    .get(async (_req, res) => {
      const ready = await options.isReady().catch((error: unknown) => {
        logger.warn({ err: error }, 'readiness check failed');
        return false;
      });
      if (ready) res.json({ status: 'ready' });
      else sendProblem(res, statusProblem(503, 'Service Unavailable', 'The database is not reachable or not migrated yet.'));
    })
    .all(methodNotAllowed('GET'));
  if (options.metricsEndpoint) app.route(metricsPath).get(options.metricsEndpoint).all(methodNotAllowed('GET'));

  // Below the health probes, which are never limited. The token endpoints' errors take the OAuth
  // shape from here on, the limit's 429 included.
  app.use(tokenEndpoints, oauthErrors);
  const limit = options.ipLimiter === undefined ? undefined : ipLimit(options.ipLimiter, logger);
  if (limit !== undefined) {
    app.post('/users', limit.rest);
    app.use(['/auth', '/oauth'], limit.rest);
  }
  // Runs before any call; an error here is every call's answer, in tRPC's shape.
  const beforeCalls = (req: Request, res: Response, next: (error?: unknown) => void): void =>
    refuseContentEncoding(req, res, (refused) => {
      if (refused !== undefined || limit === undefined) return next(refused);
      limit.trpc(req, res, (error?: unknown) => next(error === undefined ? undefined : (trpcErrorOf(error) ?? error)));
    });

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: createContextFactory(deps),
      maxBodySize: 16 * 1024,
      // API.md "Abuse limits": a larger batch is refused (400) before any of its calls runs.
      maxBatchSize: trpcMaxBatchSize,
      middleware: beforeCalls,
      // tRPC labels the errors it raises before any call (a batch too large, mixed procedure types,
      // an unsupported content type) text/plain although they are JSON, as everything it answers
      // on this router (no subscriptions, and JSON lines are application/json too).
      responseMeta: ({ errors }) => {
        const retryAfter = retryAfterOf(errors);
        return { headers: { 'content-type': 'application/json', ...(retryAfter === null ? {} : { 'retry-after': String(retryAfter) }) } };
      },
      onError: ({ error, path, req }) => {
        const requestId = req.res?.locals['requestId'];
        if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path, requestId }, 'tRPC procedure failed');
        else if (error.code === 'SERVICE_UNAVAILABLE') logger.warn({ err: error.cause ?? error, path, requestId }, unavailabilityOf(error.cause) ?? 'service unavailable');
        else if (req.res) noteRefusal(req.res, refusalOf(error, path));
      },
    }),
  );

  app.use(usersRoutes(deps));
  app.use(sessionsRoutes(deps));
  app.use(authRoutes(deps));
  app.use(oauthRoutes(deps, { issuer: options.issuer }));
  app.use(auditRoutes(deps));
  app.use(jwksRoutes(options.signingKeys));
  app.use(docsRoutes({ issuer: options.issuer }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
};
