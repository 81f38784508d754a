import { createExpressMiddleware } from '@trpc/server/adapters/express';
import cors from 'cors';
import express, { type Express } from 'express';
import type { AuthDeps } from '@pos-auth/domain';
import type { Logger } from 'pino';
import { appRouter } from '../trpc/router.js';
import { createContextFactory } from '../trpc/init.js';
import { auditRoutes } from './audit.routes.js';
import { authRoutes } from './auth.routes.js';
import { errorHandler, methodNotAllowed, notFound } from './errors.js';
import { sendProblem, statusProblem } from './problem.js';
import { requestId } from './request.js';
import { usersRoutes } from './users.routes.js';

export interface AppOptions {
  readonly deps: AuthDeps;
  readonly logger: Logger;
  /** Browser origins allowed to call with credentials; none by default. */
  readonly corsOrigins?: readonly string[];
  /** Express's `trust proxy`, for the client IP recorded in event metadata. */
  readonly trustProxy?: string | false;
  /** Whether the database is reachable and migrated. */
  readonly isReady: () => Promise<boolean>;
}

/**
 * The HTTP application: the REST endpoints of API.md and the tRPC router at `/trpc`, both thin
 * over the same use cases. Everything it answers, errors included, is JSON.
 *
 * @example
 * const app = createApp({ deps, logger, isReady: async () => true });
 * app.listen(3000);
 */
export const createApp = (options: AppOptions): Express => {
  const { deps, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.set('etag', false);

  app.use(requestId);
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

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: createContextFactory(deps),
      maxBodySize: 16 * 1024,
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
      },
    }),
  );

  app.use(usersRoutes(deps));
  app.use(authRoutes(deps));
  app.use(auditRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
};
