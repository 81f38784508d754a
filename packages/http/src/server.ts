import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMigrated, startPruningJob } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRuntime } from './composition.js';
import { startConsumers } from './consumers.js';
import { trackRequests } from './drain.js';
import { createMetrics } from './observability/metrics.js';
import { scrapeMetrics, startMetricsServer } from './observability/metrics-endpoint.js';
import { createApp } from './rest/app.js';
import { answerMalformedRequests } from './rest/client-errors.js';

/** How long shutdown waits for requests in flight before cutting their connections. */
const shutdownGraceMs = 10_000;

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts pos-auth: database (server or embedded), migrations, `AUTH_CLIENTS`, the job that prunes
 * expired tokens (at once, then every 5 minutes), then HTTP, with `/metrics` beside the API or on
 * `METRICS_PORT`. `close()` stops accepting, lets requests in flight finish (for up to 10 s), stops
 * the pruning job and the metrics server, then closes the database.
 *
 * @example
 * const running = await startServer(loadConfig(), createLogger('info'));
 * process.once('SIGTERM', () => running.close());
 */
export const startServer = async (config: Config, logger: Logger): Promise<RunningServer> => {
  const metrics = createMetrics();
  const scrape = scrapeMetrics(metrics.registry, config.metricsToken);
  const { database, deps, ipLimiter, invalidations } = await createRuntime(config, logger, metrics);
  // Every instance prunes: runs of several instances may overlap, each deleting rows the others are not.
  const pruning = startPruningJob(database.pool, deps.eventStore.projections, {
    clock: deps.clock,
    onPruned: (deleted) => logger.info({ deleted }, 'expired tokens pruned'),
    onError: (error) => logger.error({ err: error }, 'pruning expired tokens failed'),
  });
  const app = createApp({
    deps,
    logger,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    ipLimiter,
    isReady: () => isMigrated(database.pool),
    issuer: config.issuer,
    signingKeys: deps.signingKeys,
    metrics,
    metricsEndpoint: config.metricsPort === null ? scrape : undefined,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  answerMalformedRequests(server);
  // Keep-alive sockets must not outlive a load balancer's idle timeout, nor hold up shutdown.
  server.keepAliveTimeout = 65_000;
  const requests = trackRequests(server);
  const urlOf = (listening: Server) => `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${(listening.address() as AddressInfo).port}`;
  const url = urlOf(server);
  const metricsServer = config.metricsPort === null ? null : await startMetricsServer(scrape, { port: config.metricsPort, host: config.host });
  const metricsUrl = `${metricsServer === null ? url : urlOf(metricsServer)}/metrics`;
  const consumers = startConsumers(database.pool, deps.eventStore, logger);
  logger.info({ url, metricsUrl, database: database.description }, 'pos-auth listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    close: () =>
      (closing ??= (async () => {
        const cutOff = await requests.close(shutdownGraceMs);
        if (cutOff > 0) logger.warn({ cutOff, graceMs: shutdownGraceMs }, 'responses still open at the end of the shutdown grace period were cut off');
        await pruning.stop();
        await consumers.stop();
        await invalidations.stop();
        if (metricsServer !== null) await new Promise((resolve) => metricsServer.close(resolve));
        await database.close();
        logger.info('pos-auth stopped');
      })()),
  };
};
