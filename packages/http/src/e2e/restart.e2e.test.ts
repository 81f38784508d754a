import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { json, request } from './http.js';
import { spawnProcess, startProcess, stopProcess } from './process.js';

const client = { id: 'admin-panel', secret: 'restart-test-secret' };
const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;

describe('the server process on the embedded database', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('runs the seed flow with no DATABASE_URL, restarts on the same DATA_DIR, and logs in again', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-restart-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const password = 'correct horse battery staple';

    const first = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: `${client.id}:${client.secret}` });
    cleanup.push(async () => first.child.exitCode === null && stopProcess(first.child));
    expect((await request(`${first.url}/health/ready`)).status).toBe(200);
    const created = await request(`${first.url}/users`, json({ user_name: 'survivor', password }));
    expect(created.status).toBe(201);
    const login = await request(`${first.url}/auth/token`, json({ grant_type: 'password', user_name: 'survivor', password }, { authorization: basic }));
    expect(login.status).toBe(201);
    expect(await stopProcess(first.child)).toBe(0);

    const second = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: `${client.id}:${client.secret}` });
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

  it('starts again on the same DATA_DIR after a SIGKILL, stopping the orphaned PostgreSQL cleanly first', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-sigkill-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const password = 'correct horse battery staple';
    const lockFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const postmasterPid = async () => Number((await readFile(lockFile, 'utf8')).split('\n')[0]);

    const first = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: `${client.id}:${client.secret}` });
    cleanup.push(async () => first.child.exitCode === null && stopProcess(first.child));
    expect((await request(`${first.url}/users`, json({ user_name: 'survivor', password }))).status).toBe(201);
    const orphan = await postmasterPid();
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    // Its PostgreSQL runs on without it.
    expect(() => process.kill(orphan, 0)).not.toThrow();

    const second = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: `${client.id}:${client.secret}` });
    cleanup.push(async () => second.child.exitCode === null && stopProcess(second.child));
    expect(await postmasterPid()).not.toBe(orphan);
    // A clean shutdown of the orphan, not a crash recovery.
    expect(await readFile(path.join(dataDir, 'postgres.log'), 'utf8')).toMatch(/database system was shut down at/);
    const login = await request(`${second.url}/auth/token`, json({ grant_type: 'password', user_name: 'survivor', password }, { authorization: basic }));
    expect(login.status).toBe(201);
    expect(await stopProcess(second.child)).toBe(0);
  });

  it('stops its embedded PostgreSQL when signalled while still starting', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-early-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const lockFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const child = spawnProcess({ DATA_DIR: dataDir });
    cleanup.push(async () => stopProcess(child));

    // As soon as the database runs: the service is then still connecting, migrating, seeding.
    await vi.waitFor(async () => expect(Number((await readFile(lockFile, 'utf8')).split('\n')[0])).toBeGreaterThan(0), {
      timeout: 30_000,
      interval: 5,
    });
    child.kill('SIGTERM');
    await once(child, 'exit');
    // PostgreSQL removes its lock file as the last step of its shutdown.
    await vi.waitFor(() => expect(existsSync(lockFile)).toBe(false), { timeout: 10_000 });
  });

  it('answers every request in flight when stopped under load, logs no error, and exits 0', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-shutdown-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const password = 'correct horse battery staple';
    const server = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: `${client.id}:${client.secret}` });
    cleanup.push(async () => server.child.exitCode === null && stopProcess(server.child));
    await request(`${server.url}/users`, json({ user_name: 'busy', password }));
    const login = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'busy', password }, { authorization: basic }));
    const headers = { authorization: `Bearer ${login.body.access_token}` };

    // 16 keep-alive clients, each always with a request out, until the server is gone.
    const statuses: number[] = [];
    let signalled = false;
    let answeredAfterSignal = 0;
    const keepAsking = async () => {
      for (;;) {
        let status: number;
        try {
          const response = await fetch(`${server.url}/users/me`, { headers });
          await response.text();
          status = response.status;
        } catch {
          return; // refused or closed: the server has stopped listening
        }
        statuses.push(status);
        if (signalled) answeredAfterSignal += 1;
      }
    };
    const clients = Array.from({ length: 16 }, keepAsking);
    await delay(500);
    const exited = stopProcess(server.child);
    signalled = true;

    expect(await exited).toBe(0);
    await Promise.all(clients);
    expect(answeredAfterSignal).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const logged = server.output().trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logged.filter((line) => line.level >= 40)).toEqual([]);
    expect(logged.at(-1)?.msg).toBe('pos-auth stopped');
  });
});
