import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMigrated } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRuntime } from './composition.js';
import { createApp } from './rest/app.js';

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts pos-auth: database (server or embedded), migrations, `AUTH_CLIENTS`, then HTTP.
 * `close()` stops accepting, lets requests in flight finish, then closes the database.
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
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, database: database.description }, 'pos-auth listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await database.close();
        logger.info('pos-auth stopped');
      })()),
  };
};
