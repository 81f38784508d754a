import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { isMigrated, loadMigrations, migrate } from './migrate.js';

let db: TestSchema | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

/** A schema with nothing in it, and a pool that lets two migrations run at once. */
const freshSchema = async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 2, migrate: false });
  return db;
};

describe('migrate', () => {
  it('ships the event store migration first', async () => {
    const versions = (await loadMigrations()).map((m) => m.version);
    expect(versions[0]).toBe('001_event_store');
    expect(versions).toEqual([...versions].sort());
  });

  it('applies every migration once; a second run applies nothing', async () => {
    const { pool, schema } = await freshSchema();
    const all = (await loadMigrations()).map((m) => m.version);

    expect(await isMigrated(pool)).toBe(false);
    expect(await migrate(pool)).toEqual({ applied: all });
    expect(await isMigrated(pool)).toBe(true);
    expect(await migrate(pool)).toEqual({ applied: [] });

    const { rows } = await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(all);
    // Unqualified names went to the pool's schema, not to public.
    const tables = await pool.query<{ table_schema: string }>(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'events' AND table_schema = $1",
      [schema],
    );
    expect(tables.rows).toEqual([{ table_schema: schema }]);
  });

  it('two migrations started at once on a fresh schema both succeed, and one of them does the work', async () => {
    const { pool } = await freshSchema();
    const all = (await loadMigrations()).map((m) => m.version);

    const results = await Promise.all([migrate(pool), migrate(pool)]);

    const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
    expect(applied).toEqual([all, []]);
    expect(await isMigrated(pool)).toBe(true);
  });
});
