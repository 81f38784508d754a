import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { workspaceRoot } from './workspace.js';

/** A child process whose stdout is read as JSON lines. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last lines of output, for the report when something goes wrong. */
  readonly recentOutput: string[];
  /** Resolves with the first JSON line of stdout that `match` accepts; rejects on exit or timeout. */
  waitForLine<T>(match: (line: Record<string, unknown>) => T | undefined, timeoutMs: number): Promise<T>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

const recentLimit = 40;

/**
 * Spawns `node <args>` from the workspace root. Output lines go to `onLine` and the recent-output
 * buffer; stderr is echoed with the child's name so failures are visible.
 */
export const spawnNode = (
  name: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Child => {
  const child = spawn(process.execPath, [...args], {
    cwd: workspaceRoot,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${args.join(' ')}`);
  const pid = child.pid;
  const recentOutput: string[] = [];
  const remember = (line: string) => {
    recentOutput.push(line);
    if (recentOutput.length > recentLimit) recentOutput.shift();
  };
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128)));
    child.once('error', () => resolve(null));
  });

  createInterface({ input: child.stdout! }).on('line', (line) => {
    remember(line);
    options.onLine?.(line);
    if (waiters.size === 0 || !line.startsWith('{')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (parsed !== null && typeof parsed === 'object') for (const waiter of [...waiters]) waiter(parsed as Record<string, unknown>);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    remember(line);
    process.stderr.write(`[${name}] ${line}\n`);
  });

  let stopping: Promise<void> | undefined;
  return {
    name,
    process: child,
    pid,
    recentOutput,
    exited,
    waitForLine: <T>(match: (line: Record<string, unknown>) => T | undefined, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter = (line: Record<string, unknown>) => {
          const value = match(line);
          if (value === undefined) return;
          done();
          resolve(value);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no expected output within ${timeoutMs} ms\n${recentOutput.join('\n')}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          done();
          reject(new Error(`${name}: exited (code ${code}) before it was ready\n${recentOutput.join('\n')}`));
        });
      }),
    stop: (graceMs = 5000) =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timedOut = Symbol('timeout');
        const wait = (ms: number) =>
          Promise.race([exited, new Promise<typeof timedOut>((resolve) => setTimeout(resolve, ms, timedOut).unref())]);
        if ((await wait(graceMs)) !== timedOut) return;
        child.kill('SIGKILL');
        await wait(2000);
      })()),
  };
};

/** Resident set sizes of a process from /proc (Linux), in MiB; `null` where unavailable. */
export const memoryOf = (pid: number): { peakRssMiB: number | null; rssMiB: number | null } => {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { peakRssMiB: null, rssMiB: null };
  }
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return match?.[1] === undefined ? null : Number(match[1]) / 1024;
  };
  return { peakRssMiB: kib('VmHWM'), rssMiB: kib('VmRSS') };
};
