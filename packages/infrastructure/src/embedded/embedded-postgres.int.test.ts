import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it, onTestFinished } from 'vitest';
import { createPosAuthPersistence } from '../persistence.js';
import { isMigrated, loadMigrations, migrate } from '../postgres/migrate.js';
import { createPool } from '../postgres/pool.js';
import { loginFailed, metadata } from '../testing/fixtures.js';
import { serverUser } from './binaries.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const parent = await mkdtemp(join(tmpdir(), 'pos-auth-embedded-'));
// Run as root, the server runs as the postgres system user, who must be able to pass through.
await chmod(parent, 0o711);
afterAll(() => rm(parent, { recursive: true, force: true }));

/** The Unix socket directory of an embedded server's connection string. */
const socketDirectory = (connectionString: string) => new URL(connectionString).searchParams.get('host')!;

/**
 * What the server answers a startup message that carries no password: its first message, as
 * type and, for an authentication request, the method (0 would be "ok, no password needed").
 */
const answerToStartup = async (directory: string): Promise<{ type: string; method: number }> => {
  const socket = createConnection(join(directory, '.s.PGSQL.5432'));
  try {
    await once(socket, 'connect');
    const parameters = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + parameters.length, 0);
    startup.writeInt32BE(196608, 4); // protocol 3.0
    socket.write(Buffer.concat([startup, parameters]));
    const [reply] = (await once(socket, 'data')) as [Buffer];
    return { type: String.fromCharCode(reply[0]!), method: reply.readInt32BE(5) };
  } finally {
    socket.destroy();
  }
};

it('keeps the log in its data directory across a stop and a start', async () => {
  // A directory that does not exist yet: the embedded database creates it.
  const dataDir = join(parent, 'nested', 'data');
  const event = loginFailed(null);
  const meta = metadata();

  const first = await startEmbeddedPostgres({ dataDir });
  expect(socketDirectory(first.connectionString)).toBe(join(dataDir, 'postgres'));
  const firstPool = createPool(first.connectionString);
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
  expect((await stat(join(dataDir, 'password'))).mode & 0o777).toBe(0o600);

  const second = await startEmbeddedPostgres({ dataDir });
  expect(second.connectionString).toBe(first.connectionString);
  const secondPool = createPool(second.connectionString);
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

it('listens on no TCP port and asks every client for the password, also on its socket', async () => {
  const embedded = await startEmbeddedPostgres({ dataDir: null });
  try {
    const directory = socketDirectory(embedded.connectionString);
    // 'R' with method 10: SASL (scram-sha-256), before any query.
    expect(await answerToStartup(directory)).toEqual({ type: 'R', method: 10 });

    const wrong = new pg.Client({ host: directory, user: 'postgres', database: 'postgres', password: 'not-the-password' });
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });

    const client = new pg.Client({ connectionString: embedded.connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ listen: string; methods: string[] }>(
        `SELECT current_setting('listen_addresses') AS listen, array_agg(DISTINCT auth_method) AS methods FROM pg_hba_file_rules`,
      );
      expect(rows).toEqual([{ listen: '', methods: ['scram-sha-256'] }]);
    } finally {
      await client.end();
    }
  } finally {
    await embedded.stop();
  }
});

it('takes many connections at once', async () => {
  const embedded = await startEmbeddedPostgres({ dataDir: null });
  const pool = createPool(embedded.connectionString, { max: 10 });
  try {
    // Ten sessions each waiting for all the others: only possible with ten live connections.
    const sessions = await Promise.all(
      Array.from({ length: 10 }, () => pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')),
    );
    expect(new Set(sessions.map(({ rows }) => rows[0]?.pid)).size).toBe(10);
  } finally {
    await pool.end();
    await embedded.stop();
  }
});

it('starts in a temporary directory with no data directory, removes it on stop, and stop() may be called twice', async () => {
  const embedded = await startEmbeddedPostgres({ dataDir: null });
  const directory = socketDirectory(embedded.connectionString);
  const pool = createPool(embedded.connectionString);
  try {
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await isMigrated(pool)).toBe(false);
  } finally {
    await pool.end();
    await embedded.stop();
    await embedded.stop();
  }
  await expect(stat(join(directory, '..'))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('refuses a data directory whose server a running process still uses', async () => {
  const dataDir = join(parent, 'in-use');
  const first = await startEmbeddedPostgres({ dataDir });
  try {
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/is in use: its PostgreSQL \(pid \d+\) belongs to process \d+/);
    // The first one still serves.
    const client = new pg.Client({ connectionString: first.connectionString });
    await client.connect();
    await client.end();
  } finally {
    await first.stop();
  }
});

it('starts over a stale postmaster.pid, whether its pid is dead or now another program', async () => {
  const dataDir = join(parent, 'stale');
  await (await startEmbeddedPostgres({ dataDir })).stop();
  const lockFile = join(dataDir, 'postgres', 'postmaster.pid');

  const gone = spawn(process.execPath, ['-e', '']);
  await once(gone, 'exit');
  // Another program of the server's user, alive. (PostgreSQL itself ignores a lock that names its
  // parent, or a process it may not signal: neither would show that the stale file goes.)
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { cwd: tmpdir(), ...((await serverUser()) ?? {}) });
  onTestFinished(() => void other.kill());
  for (const pid of [gone.pid!, other.pid!]) {
    await writeFile(lockFile, `${pid}\n${join(dataDir, 'postgres')}\n`);
    const embedded = await startEmbeddedPostgres({ dataDir });
    const client = new pg.Client({ connectionString: embedded.connectionString });
    try {
      await client.connect();
      expect((await client.query('SELECT pg_backend_pid() > 0 AS serving')).rows).toEqual([{ serving: true }]);
    } finally {
      await client.end();
      await embedded.stop();
    }
  }
});
