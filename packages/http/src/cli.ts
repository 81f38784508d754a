import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { DomainError, ValidationError, registerClient } from '@pos-auth/domain';
import {
  createPosAuthPersistence,
  createSha256Digester,
  defaultActivationDelaySeconds,
  migrate,
  rebuildProjections,
  systemClock,
} from '@pos-auth/infrastructure';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './composition.js';
import { parseActivateIn, rotateKeysCommand } from './keys-command.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

const usage = `Usage: pos-auth <command>

Commands:
  start                                 start the HTTP service (the default)
  migrate                               apply pending database migrations and exit
  register-client <client_id> [secret]  register an OAuth client; the secret is read from
                                        standard input when not given (keeps it out of ps)
  rebuild-projections                   rebuild every projection from the event log
  keys rotate [--activate-in <seconds>]  a new signing key for JWT access tokens: published now,
                                        signing from --activate-in seconds on (default ${defaultActivationDelaySeconds})

Configuration is read from environment variables; see the README.`;

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
};

/** Runs one command against the configured database, then closes it. */
const withDatabase = async (work: (database: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>) => {
  const database = await openDatabase(loadConfig());
  try {
    await work(database);
  } finally {
    await database.close();
  }
};

type Flags = { readonly 'activate-in'?: string | undefined };

const commands: Record<string, (args: string[], flags: Flags) => Promise<void>> = {
  start: async () => {
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
  },
  migrate: () =>
    withDatabase(async ({ pool }) => {
      const { applied } = await migrate(pool);
      console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`);
    }),
  'register-client': ([clientId, secret]) =>
    withDatabase(async ({ pool }) => {
      if (clientId === undefined) throw new ConfigError('register-client needs a client id');
      await migrate(pool);
      const clientSecret = secret ?? (await readStdin());
      const { eventStore } = await createPosAuthPersistence(pool);
      const deps = { eventStore, digester: createSha256Digester(), clock: systemClock };
      await registerClient(deps, { clientId, clientSecret }, { requestId: 'cli' });
      console.log(`Registered client ${clientId}.`);
    }),
  'rebuild-projections': () =>
    withDatabase(async ({ pool }) => {
      await migrate(pool);
      const { eventStore } = await createPosAuthPersistence(pool);
      const { replayed } = await rebuildProjections(pool, eventStore);
      console.log(`Projections rebuilt from the event log (${replayed} events).`);
    }),
  keys: ([action], flags) => {
    if (action !== 'rotate') throw new ConfigError('keys needs an action: keys rotate');
    const activateInSeconds = parseActivateIn(flags['activate-in']);
    return withDatabase(async ({ pool }) => {
      await migrate(pool);
      console.log(await rotateKeysCommand(pool, loadConfig(), { activateInSeconds }));
    });
  },
};

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, 'activate-in': { type: 'string' } },
  });
  const [name = 'start', ...args] = positionals;
  const command = commands[name];
  if (values.help || command === undefined) {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  await command(args, values);
};

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DomainError) {
    const details = error instanceof ValidationError ? error.errors.map((e) => `${e.path} ${e.message}`).join('; ') : '';
    console.error(`pos-auth: ${error.message}${details ? ` ${details}` : ''}`);
  } else {
    console.error('pos-auth: failed:', error);
  }
  process.exit(1);
});
