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
      const running = await startServer(config, logger);
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
