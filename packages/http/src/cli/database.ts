import { migrate } from '@pos-auth/infrastructure';
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type Database } from '../composition.js';

/**
 * Runs one command against the configured database (DATABASE_URL, else the embedded one), migrated
 * first unless `migrated: false`, and closes it afterwards, whatever happens. The work gets the
 * configuration it was opened with.
 */
export const withDatabase = async <T>(work: (database: Database, config: Config) => Promise<T>, options: { readonly migrated?: boolean } = {}): Promise<T> => {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    if (options.migrated ?? true) await migrate(database.pool);
    return await work(database, config);
  } finally {
    await database.close();
  }
};

const readAll = async (): Promise<string> => {
  // Typed at a terminal, the input ends with Ctrl-D: say so on stderr, which stays out of pipes.
  if (process.stdin.isTTY) process.stderr.write('Reading from standard input; end with Enter, then Ctrl-D.\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** Everything on standard input, trimmed: for secrets that must not appear in `ps`. */
export const readStdin = async (): Promise<string> => (await readAll()).trim();

/**
 * A password from standard input, as typed: only the line break that ends it is dropped, since
 * spaces at either end belong to the password and logins compare it exactly.
 */
export const readPasswordFromStdin = async (): Promise<string> => (await readAll()).replace(/\r?\n$/u, '');
