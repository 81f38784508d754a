import { readdir, readFile } from 'node:fs/promises';
import { DatabaseError, type Pool } from 'pg';
import { inTransaction } from './transaction.js';

export interface Migration {
  /** The file name without `.sql`, e.g. `001_event_store`: what `schema_migrations` records. */
  readonly version: string;
  readonly sql: string;
}

const migrationsDirectory = new URL('./migrations/', import.meta.url);
const migrationFileName = /^\d+_[a-z0-9_]+\.sql$/u;

let shippedMigrations: Promise<readonly Migration[]> | undefined;

/**
 * The migrations shipped with this module, in the order they apply (by their zero-padded numeric
 * prefix). Read once per process: the files do not change while it runs, and the readiness probe
 * asks often.
 */
export const loadMigrations = (): Promise<readonly Migration[]> => {
  shippedMigrations ??= (async () => {
    const names = (await readdir(migrationsDirectory)).filter((name) => migrationFileName.test(name)).sort();
    return Promise.all(
      names.map(async (name) => ({
        version: name.slice(0, -'.sql'.length),
        sql: await readFile(new URL(name, migrationsDirectory), 'utf8'),
      })),
    );
  })().catch((error: unknown) => {
    // Not cached: a later call (the next readiness probe) tries again.
    shippedMigrations = undefined;
    throw error;
  });
  return shippedMigrations;
};

/**
 * Applies the migrations not yet applied to the pool's schema, in order, in one transaction, and
 * records each in `schema_migrations`. Safe when several processes start at once: a transaction-
 * scoped advisory lock (keyed by the schema, so that different schemas do not wait on each other)
 * makes them take turns, and each one sees what the previous applied. All or nothing: a failing
 * migration leaves the schema as it was.
 *
 * @example
 * const pool = createPool(databaseUrl);
 * const { applied } = await migrate(pool); // ['001_event_store'] the first time, [] afterwards
 */
export const migrate = async (pool: Pool): Promise<{ readonly applied: string[] }> => {
  const migrations = await loadMigrations();
  return inTransaction(pool, async (client) => {
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('pos-auth:migrate'), hashtext(coalesce(current_schema(), '')))",
    );
    // Created under the lock: two first runs cannot both try to create it.
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const recorded = await client.query<{ version: string }>('SELECT version FROM schema_migrations');
    const alreadyApplied = new Set(recorded.rows.map((row) => row.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (alreadyApplied.has(migration.version)) continue;
      // Without parameters pg uses the simple query protocol, which runs a file of statements.
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
      applied.push(migration.version);
    }
    return { applied };
  });
};

/**
 * True when every migration this code ships is applied to the pool's schema: what the readiness
 * probe asks. A schema migrated by newer code (with more migrations) is also ready.
 *
 * @example
 * app.get('/health/ready', async (_req, res) => res.sendStatus((await isMigrated(pool)) ? 200 : 503));
 */
export const isMigrated = async (pool: Pool): Promise<boolean> => {
  const migrations = await loadMigrations();
  try {
    const recorded = await pool.query<{ version: string }>('SELECT version FROM schema_migrations');
    const applied = new Set(recorded.rows.map((row) => row.version));
    return migrations.every((migration) => applied.has(migration.version));
  } catch (error) {
    // No schema_migrations table: nothing was ever migrated here. Anything else (the database
    // is unreachable) is for the caller to report.
    if (error instanceof DatabaseError && error.code === '42P01') return false;
    throw error;
  }
};
