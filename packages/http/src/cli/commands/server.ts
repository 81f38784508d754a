import { constants } from 'node:os';
import type { Command } from 'commander';
import { migrate } from '@pos-auth/infrastructure';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startServer } from '../../server.js';
import { withDatabase } from '../database.js';

/** `start` (the default command) and `migrate`. */
export const registerServerCommands = (program: Command): void => {
  program
    .command('start')
    .description('start the HTTP service (what `pnpm start` runs; the default command)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      // Until the server runs there is nothing to drain: a signal ends the process at once, and its
      // exit stops the embedded database it may have started (which a terminal's Ctrl-C misses).
      const stopWhileStarting = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopped while starting');
        process.exit(128 + constants.signals[signal]);
      };
      process.once('SIGINT', stopWhileStarting).once('SIGTERM', stopWhileStarting);
      const running = await startServer(config, logger);
      process.off('SIGINT', stopWhileStarting).off('SIGTERM', stopWhileStarting);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          logger.info({ signal }, 'shutting down');
          running.close().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(() =>
      withDatabase(
        async ({ pool }) => {
          const { applied } = await migrate(pool);
          console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`);
        },
        { migrated: false },
      ),
    );
};
