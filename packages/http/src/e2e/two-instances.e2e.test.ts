import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { json, request } from './http.js';
import { startProcess, stopProcess, type ServerProcess } from './process.js';

const client = { id: 'admin-panel', secret: 'two-instances-secret' };
const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
const ipLimit = 8;

/**
 * The abuse limits hold across instances: two real server processes (the CLI's `start`) on one
 * database of their own, created on the test database's server and dropped after.
 */
describe('abuse limits across two server processes on one database', () => {
  const databaseName = `pos_auth_two_${randomBytes(6).toString('hex')}`;
  const admin = () => new pg.Client({ connectionString: inject('testDatabase').url });
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    const connection = admin();
    await connection.connect();
    try {
      await connection.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`);
    } finally {
      await connection.end();
    }
    const url = new URL(inject('testDatabase').url);
    url.pathname = `/${databaseName}`;
    const env = {
      DATABASE_URL: url.toString(),
      AUTH_CLIENTS: `${client.id}:${client.secret}`,
      RATE_LIMIT_IP_PER_MINUTE: String(ipLimit),
      TRUST_PROXY: 'loopback',
    };
    // One after the other: the first migrates, the second finds it done.
    servers.push(await startProcess(env));
    servers.push(await startProcess(env));
  }, 120_000);
  afterAll(async () => {
    for (const server of servers) await stopProcess(server.child);
    servers = [];
    const connection = admin();
    await connection.connect();
    try {
      await connection.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`);
    } finally {
      await connection.end();
    }
  });

  const login = (server: ServerProcess, userName: string, password: string, ip: string) =>
    request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password }, { authorization: basic, 'x-forwarded-for': ip }));

  it('a back-off opened through one process refuses on the other', async () => {
    const [first, second] = servers as [ServerProcess, ServerProcess];
    const password = 'correct horse battery staple';
    // Each request from an address of its own: only the per-name back-off is at work here.
    let address = 0;
    const ip = () => `198.51.100.${(address += 1)}`;
    expect((await request(`${first.url}/users`, json({ user_name: 'shared-name', password }, { 'x-forwarded-for': ip() }))).status).toBe(201);
    for (let i = 1; i <= 5; i += 1) expect((await login(first, 'shared-name', `wrong guess ${i}`, ip())).status).toBe(400);
    // Two more failures, each checked after the window before it, leave a 4 s window: room
    // enough for the next request to reach the other process inside it, however busy the machine.
    for (const guess of ['wrong guess 6', 'wrong guess 7']) {
      const inWindow = await login(first, 'shared-name', guess, ip());
      expect(inWindow.status).toBe(429);
      await sleep(Number(inWindow.headers.get('retry-after')) * 1000);
      expect((await login(first, 'shared-name', guess, ip())).status).toBe(400);
    }
    const refused = await login(second, 'shared-name', password, ip());
    expect(refused.status).toBe(429);
    expect(refused.body.error_description).toBe('Too many failed logins for this user name. Try again later.');
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  });

  it('one IP has one budget over both processes', async () => {
    const [first, second] = servers as [ServerProcess, ServerProcess];
    const ip = '203.0.113.50';
    const statuses: number[] = [];
    for (let i = 0; i < ipLimit; i += 1) statuses.push((await login(i % 2 === 0 ? first : second, `nobody-${i}`, 'a wrong password', ip)).status);
    expect(statuses).toEqual(Array(ipLimit).fill(400));
    for (const server of [first, second]) {
      const refused = await login(server, 'nobody-else', 'a wrong password', ip);
      expect(refused.status).toBe(429);
      expect(refused.body.error_description).toBe('Too many requests from this address. Try again later.');
    }
    // The refusal that went over the budget is logged once, by the process that answered it.
    const reached = servers.flatMap((server) => server.output().split('\n').filter((line) => line.includes('per-IP limit reached') && line.includes(ip)));
    expect(reached).toHaveLength(1);
  });
});
