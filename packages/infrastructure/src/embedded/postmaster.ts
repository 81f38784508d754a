import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The server's lock file in its data directory (PostgreSQL's `miscinit.c`): line 1 the
 * postmaster's pid, line 8 its status (`starting`, `ready`, `stopping`) once it has one.
 */
const lockFile = (serverDir: string) => join(serverDir, 'postmaster.pid');

const pollMs = 10;

const readLockFile = async (serverDir: string): Promise<{ pid: number; status: string | undefined } | null> => {
  let text: string;
  try {
    text = await readFile(lockFile(serverDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  return Number.isInteger(pid) && pid > 0 ? { pid, status: lines[7]?.trim() } : null;
};

interface LiveProcess {
  readonly parentPid: number;
  readonly args: readonly string[];
}

/** A running (not zombie) process's parent and command line, from Linux's /proc; null when there is none. */
const liveProcess = async (pid: number): Promise<LiveProcess | null> => {
  try {
    const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    // The command name in field 2 is in parentheses and may hold spaces: count from its end.
    const [state, parentPid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? null : { parentPid: Number(parentPid), args: cmdline.split('\0') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Whether a command line is the postmaster that `startServer` spawns on `serverDir`. */
const isPostmasterOf = (args: readonly string[], serverDir: string): boolean =>
  basename(args[0] ?? '') === 'postgres' && args[args.indexOf('-D') + 1] === serverDir;

/**
 * Makes way for a new server on `serverDir` after the process that ran the last one died without
 * stopping it (SIGKILL, a crash, a power cut):
 *
 * - its postmaster still runs, orphaned: stopped cleanly (fast shutdown: a checkpoint, no
 *   recovery at the next start). Unless the process that started it (`startedBy`) is still its
 *   parent: then another pos-auth uses the directory, and this refuses to start;
 * - the lock file names a pid that now belongs to another program (pids are reused, after a reboot
 *   or in a new container): PostgreSQL would refuse to start, so the stale file goes;
 * - the lock file names no live process: PostgreSQL removes it itself, after checking that no
 *   process of the old server still holds its shared memory.
 *
 * Reading a process's identity needs Linux's /proc; elsewhere a live pid in the lock file stops
 * the start with instructions.
 */
export const clearLeftoverServer = async (serverDir: string, startedBy: number | null): Promise<void> => {
  const lock = await readLockFile(serverDir);
  if (lock === null || !isAlive(lock.pid)) return;
  if (process.platform !== 'linux') {
    throw new Error(
      `${lockFile(serverDir)} names the live process ${lock.pid}: if it is this directory's PostgreSQL, stop it (kill -INT ${lock.pid}); if not, delete the file`,
    );
  }
  const holder = await liveProcess(lock.pid);
  if (holder === null) return;
  if (!isPostmasterOf(holder.args, serverDir)) {
    await rm(lockFile(serverDir), { force: true });
    return;
  }
  if (holder.parentPid === startedBy) {
    throw new Error(`${serverDir} is in use: its PostgreSQL (pid ${lock.pid}) belongs to process ${startedBy}, which is still running`);
  }
  process.kill(lock.pid, 'SIGINT');
  for (const deadline = Date.now() + 60_000; (await liveProcess(lock.pid)) !== null; await delay(pollMs)) {
    if (Date.now() > deadline) throw new Error(`The orphaned PostgreSQL (pid ${lock.pid}) on ${serverDir} did not stop within 60 s`);
  }
};

/**
 * Resolves once the postmaster `pid` says in its lock file that it accepts connections (what
 * `pg_ctl start --wait` watches); rejects when `exited` settles first or after `timeoutMs`.
 */
export const waitUntilReady = async (serverDir: string, pid: number, exited: Promise<unknown>, timeoutMs: number): Promise<void> => {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  for (const deadline = Date.now() + timeoutMs; ; await delay(pollMs)) {
    if (hasExited) throw new Error('PostgreSQL exited before it was ready');
    const lock = await readLockFile(serverDir);
    if (lock?.pid === pid && lock.status === 'ready') return;
    if (Date.now() > deadline) throw new Error(`PostgreSQL was not ready within ${timeoutMs / 1000} s`);
  }
};
