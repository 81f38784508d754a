import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { json, request } from './http.js';

const bin = fileURLToPath(new URL('../../bin/pos-auth.js', import.meta.url));
const client = { id: 'admin-panel', secret: 'restart-test-secret' };
const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;

/** Starts the real server process on the embedded database; resolves with its URL once it listens. */
const startProcess = (dataDir: string): Promise<{ child: ChildProcess; url: string }> => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', AUTH_CLIENTS: `${client.id}:${client.secret}`, LOG_LEVEL: 'info' };
  delete env['DATABASE_URL'];
  const child = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('pos-auth listening'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(line).url });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
};

const stopProcess = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('the server process on the embedded database', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('runs the seed flow with no DATABASE_URL, restarts on the same DATA_DIR, and logs in again', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-restart-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const password = 'correct horse battery staple';

    const first = await startProcess(dataDir);
    cleanup.push(async () => first.child.exitCode === null && stopProcess(first.child));
    expect((await request(`${first.url}/health/ready`)).status).toBe(200);
    const created = await request(`${first.url}/users`, json({ user_name: 'survivor', password }));
    expect(created.status).toBe(201);
    const login = await request(`${first.url}/auth/token`, json({ grant_type: 'password', user_name: 'survivor', password }, { authorization: basic }));
    expect(login.status).toBe(201);
    expect(await stopProcess(first.child)).toBe(0);

    const second = await startProcess(dataDir);
    cleanup.push(async () => second.child.exitCode === null && stopProcess(second.child));
    const again = await request(`${second.url}/auth/token`, json({ grant_type: 'password', user_name: 'survivor', password }, { authorization: basic }));
    expect(again.status).toBe(201);
    // The session from before the restart outlives it: its refresh token still works, once.
    const refreshed = await request(`${second.url}/auth/refresh-token`, { method: 'POST', headers: { authorization: `Bearer ${login.body.refresh_token}` } });
    expect(refreshed.status).toBe(201);
    const me = await request(`${second.url}/users/me`, { headers: { authorization: `Bearer ${login.body.access_token}` } });
    expect(me.body).toMatchObject({ user_name: 'survivor', role: 'admin' });
    expect(await stopProcess(second.child)).toBe(0);
  });
});
