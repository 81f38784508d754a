import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createPosAuthPersistence } from '../persistence.js';
import { isMigrated, loadMigrations, migrate } from '../postgres/migrate.js';
import { createPool } from '../postgres/pool.js';
import { loginFailed, metadata } from '../testing/fixtures.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const parent = await mkdtemp(join(tmpdir(), 'pos-auth-embedded-'));
afterAll(() => rm(parent, { recursive: true, force: true }));

it('keeps the log in its data directory across a stop and a start', async () => {
  // A directory that does not exist yet: the embedded database creates it.
  const dataDir = join(parent, 'nested', 'data');
  const event = loginFailed(null);
  const meta = metadata();

  const first = await startEmbeddedPostgres({ dataDir });
  expect(first.poolMax).toBe(1);
  expect(first.connectionString).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/u);
  const firstPool = createPool(first.connectionString, { max: first.poolMax });
  try {
    // Every migration shipped, whatever their number: the list grows with each one.
    expect(await migrate(firstPool)).toEqual({ applied: (await loadMigrations()).map((migration) => migration.version) });
    await (await createPosAuthPersistence(firstPool)).eventStore.appendToStream('login-failures-unknown-user', [event], {
      expectedVersion: 'no_stream',
      metadata: meta,
    });
  } finally {
    await firstPool.end();
    await first.stop();
  }
  expect((await stat(dataDir)).isDirectory()).toBe(true);

  const second = await startEmbeddedPostgres({ dataDir });
  const secondPool = createPool(second.connectionString, { max: second.poolMax });
  try {
    expect(await isMigrated(secondPool)).toBe(true);
    expect(await migrate(secondPool)).toEqual({ applied: [] });
    const stream = await (await createPosAuthPersistence(secondPool)).eventStore.readStream('login-failures-unknown-user');
    expect(stream.version).toBe(1);
    expect(stream.events.map(({ type, data, metadata }) => ({ type, data, metadata }))).toEqual([
      { type: 'LoginFailed', data: event.data, metadata: meta },
    ]);
  } finally {
    await secondPool.end();
    await second.stop();
  }
});

it('starts in memory with no data directory, and stop() may be called twice', async () => {
  const embedded = await startEmbeddedPostgres({ dataDir: null });
  const pool = createPool(embedded.connectionString, { max: embedded.poolMax });
  try {
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await isMigrated(pool)).toBe(false);
  } finally {
    await pool.end();
    await embedded.stop();
    await embedded.stop();
  }
});
