import { migrate } from '@pos-auth/infrastructure';
import { loadConfig } from '../config.js';
import { openDatabase, type Database } from '../composition.js';

/**
 * Runs one command against the configured database (DATABASE_URL, else the embedded one), migrated
 * first unless `migrated: false`, and closes it afterwards, whatever happens.
 */
export const withDatabase = async <T>(work: (database: Database) => Promise<T>, options: { readonly migrated?: boolean } = {}): Promise<T> => {
  const database = await openDatabase(loadConfig());
  try {
    if (options.migrated ?? true) await migrate(database.pool);
    return await work(database);
  } finally {
    await database.close();
  }
};

/** Everything on standard input, trimmed: for secrets that must not appear in `ps`. */
export const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
};
