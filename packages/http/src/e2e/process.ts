import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../openapi.js';
import { checkRepliesAgainst } from './http.js';
import type { TestSchema } from '@pos-auth/infrastructure/testing';

const bin = fileURLToPath(new URL('../../bin/pos-auth.js', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it wrote to stdout and stderr so far (pino's JSON lines). */
  output(): string;
}

/** What starts the server: the workspace's bin by default; another command from another directory (a production tree). */
export interface ServerCommand {
  readonly command: readonly [string, ...string[]];
  readonly cwd?: string;
}

const workspaceBin: ServerCommand = { command: [process.execPath, bin, 'start'] };

/**
 * Spawns the real server process (as `startProcess` does) without waiting for anything: on the
 * embedded database unless `env` names a DATABASE_URL (this process's own is never passed on).
 */
export const spawnProcess = (env: Record<string, string>, { command: [file, ...args], cwd }: ServerCommand = workspaceBin): ChildProcess => {
  const { DATABASE_URL: _ours, ...inherited } = process.env;
  const fullEnv: NodeJS.ProcessEnv = { ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env };
  return spawn(file, args, { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
};

/**
 * Starts the real server process (the CLI's `start`, compiled: the bin runs dist/, which the
 * tests' global setup builds) on the embedded database, whatever this process's environment says
 * about DATABASE_URL, unless `env` gives one; resolves with its URL once it listens on a free port.
 * From then on, the replies `request` gets from it are checked against the OpenAPI document.
 */
export const startProcess = (env: Record<string, string>, command?: ServerCommand): Promise<ServerProcess> => {
  const child = spawnProcess(env, command);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('pos-auth listening'));
      if (line) {
        clearTimeout(timer);
        const url: string = JSON.parse(line).url;
        checkRepliesAgainst(url, openApiDocument(url));
        resolve({ child, url, output: () => output });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
};

/** SIGTERM, as an orchestrator stops it; resolves with the exit code (null after a signal). */
export const stopProcess = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

/** A `DATABASE_URL` that puts a server or CLI process in `schema` of the test database (a libpq startup option). */
export const schemaDatabaseUrl = (databaseUrl: string, schema: string): string => {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
};

/** Runs the CLI to its end (`input` on its standard input); resolves with its exit code and output. */
export const runCli = (
  args: readonly string[],
  env: Record<string, string>,
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
