import { rebuildProjections } from '@pos-auth/infrastructure';
import { projectionSnapshot, replayedSnapshot, seedEventLog } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth, startTestServer, testClient, type TestServer } from '../testing.js';
import { json, request } from './http.js';
import { schemaDatabaseUrl, runCli } from './process.js';

const password = 'correct horse battery staple';
const loginClients = 3;

describe('pos-auth projections rebuild while the service serves logins', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    // Months of history, so that the rebuild takes a while, and projections that match it. Its
    // tokens have all expired: the rebuild leaves their rows out, as the pruning job deletes them.
    await seedEventLog(server.pool, { events: 40_000, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-06-01T00:00:00Z') });
    await rebuildProjections(server.pool, server.deps.eventStore);
    for (let index = 0; index < loginClients; index += 1) {
      expect((await request(`${server.url}/users`, json({ user_name: `cashier-${index}`, password }))).status).toBe(201);
    }
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('swaps the new tables in with no login failing or waiting a second, and they equal the log', async () => {
    const latencies: number[] = [];
    const failures: string[] = [];
    const tokens: string[] = [];
    let running = true;
    const clients = Array.from({ length: loginClients }, async (_, index) => {
      while (running) {
        const started = performance.now();
        const reply = await request(
          `${server.url}/auth/token`,
          json({ grant_type: 'password', user_name: `cashier-${index}`, password }, { authorization: basicAuth(testClient) }),
        );
        latencies.push(performance.now() - started);
        if (reply.status === 201) tokens.push(reply.body.access_token);
        else failures.push(`${reply.status} ${reply.text}`);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rebuildStarted = new Date();
    const rebuild = await runCli(['projections', 'rebuild'], { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = false;
    await Promise.all(clients);

    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/^Projections rebuilt from the event log \(\d+ events\); the new tables were swapped in within \d+ ms\.$/m);
    const max = Math.max(...latencies);
    console.info(`rebuild under logins: ${latencies.length} logins by ${loginClients} clients, max latency ${max.toFixed(0)} ms; ${rebuild.stdout.trim()}`);
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(loginClients * 3);
    expect(max).toBeLessThan(1000);
    // Every session that started during the rebuild is in the tables swapped in.
    for (const token of tokens) {
      expect((await request(`${server.url}/users/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    await vi.waitFor(async () => expect(await projectionSnapshot(server.pool, server.deps.eventStore)).toEqual(await replayedSnapshot(server.deps.eventStore, { now: rebuildStarted })), {
      timeout: 20_000,
      interval: 500,
    });
  }, 120_000);
});
