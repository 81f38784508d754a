import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMigrated } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRuntime } from './composition.js';
import { startConsumers } from './consumers.js';
import { trackRequests } from './drain.js';
import { createApp } from './rest/app.js';

/** How long shutdown waits for requests in flight before cutting their connections. */
const shutdownGraceMs = 10_000;

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts pos-auth: database (server or embedded), migrations, `AUTH_CLIENTS`, then HTTP.
 * `close()` stops accepting, lets requests in flight finish (for up to 10 s), then closes the
 * database.
 *
 * @example
 * const running = await startServer(loadConfig(), createLogger('info'));
 * process.once('SIGTERM', () => running.close());
 */
export const startServer = async (config: Config, logger: Logger): Promise<RunningServer> => {
  const { database, deps } = await createRuntime(config, logger);
  const app = createApp({
    deps,
    logger,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    isReady: () => isMigrated(database.pool),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  // Keep-alive sockets must not outlive a load balancer's idle timeout, nor hold up shutdown.
  server.keepAliveTimeout = 65_000;
  const requests = trackRequests(server);
  const consumers = startConsumers(database.pool, deps.eventStore, logger);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, database: database.description }, 'pos-auth listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    close: () =>
      (closing ??= (async () => {
        const cutOff = await requests.close(shutdownGraceMs);
        if (cutOff > 0) logger.warn({ cutOff, graceMs: shutdownGraceMs }, 'responses still open at the end of the shutdown grace period were cut off');
        await consumers.stop();
        await database.close();
        logger.info('pos-auth stopped');
      })()),
  };
};
