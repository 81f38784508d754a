import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../postgres/migrate.js';
import { createPool } from '../postgres/pool.js';

import type { TestDatabaseRef } from './test-database.js';

export * from './test-database.js';
export * from './seed-log.js';
export * from './projection-snapshot.js';

export interface TestSchema {
  /** A pool whose connections all work in `schema`, and carry it as their `application_name`. */
  readonly pool: pg.Pool;
  readonly schema: string;
  /** The database URL the schema lives in (pass `schema` to `createPool` to use it). */
  readonly connectionString: string;
  /** Ends the pool and drops the schema with everything in it. */
  drop(): Promise<void>;
}

export interface TestSchemaOptions {
  /** The pool's `max` (default 10). */
  readonly max?: number;
  /** Apply the migrations (default true); false gives an empty schema, to test `migrate` itself. */
  readonly migrate?: boolean;
}

/**
 * A fresh, migrated schema `t_<random>` in the test database, and a pool that works in it: each
 * test file takes one, so files are isolated from each other and each starts with an empty system.
 *
 * @example
 * const db = await createTestSchema(inject('testDatabase'), { max: 20 });
 * afterAll(() => db.drop());
 * const eventStore = createPostgresEventStore(db.pool);
 */
export const createTestSchema = async (database: TestDatabaseRef, options: TestSchemaOptions = {}): Promise<TestSchema> => {
  const databaseUrl = database.url;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const quoted = pg.escapeIdentifier(schema);
  // The pool's connections set their search_path to the schema before it exists; PostgreSQL
  // resolves the path again once it is created. application_name = the schema: a test can find
  // (and terminate) exactly its own connections.
  const pool = createPool(databaseUrl, { schema, applicationName: schema, max: options.max ?? 10 });
  try {
    await pool.query(`CREATE SCHEMA ${quoted}`);
    if (options.migrate ?? true) await migrate(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let dropped: Promise<void> | undefined;
  return {
    pool,
    schema,
    connectionString: databaseUrl,
    drop() {
      dropped ??= (async () => {
        try {
          await pool.query(`DROP SCHEMA ${quoted} CASCADE`);
        } finally {
          await pool.end();
        }
      })();
      return dropped;
    },
  };
};
