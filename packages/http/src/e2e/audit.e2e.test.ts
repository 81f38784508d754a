import { randomUUID } from 'node:crypto';
import { ClientId, UserNameDigest, type DomainEvent } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { appRouter } from '../trpc/router.js';
import { basicAuth, startTestServer, testClient, type TestServer } from '../testing.js';
import { json, request } from './http.js';
import { schemaDatabaseUrl, runCli } from './process.js';

const password = 'correct horse battery staple';
const kiosk = { clientId: 'kiosk', clientSecret: 'kiosk-secret-123' };
const outsideIp = '203.0.113.9';

interface Item {
  position: string;
  stream_id: string;
  type: string;
  recorded_at: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

describe('GET /audit/events over HTTP', () => {
  let server: TestServer;
  let admin: string;
  let aliceToken: string;
  const ids: Record<string, string> = {};
  let aliceSession: string;
  let all: Item[];

  const login = async (userName: string, secret: string, headers: Record<string, string> = {}, client = testClient) =>
    request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password: secret }, { authorization: basicAuth(client), ...headers }));

  /** One page, as the API answers it. */
  const page = (query: string, token = admin, headers: Record<string, string> = {}) =>
    request(`${server.url}/audit/events${query === '' ? '' : `?${query}`}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  /** Every page of a query, following next_cursor. */
  const walk = async (query: string, limit = 1000): Promise<Item[]> => {
    const items: Item[] = [];
    let cursor: string | null = null;
    do {
      const reply = await page([query, `limit=${limit}`, ...(cursor === null ? [] : [`cursor=${encodeURIComponent(cursor)}`])].filter(Boolean).join('&'));
      expect(reply.status).toBe(200);
      items.push(...(reply.body.items as Item[]));
      cursor = reply.body.next_cursor;
    } while (cursor !== null);
    return items;
  };

  const eventCount = async () => Number((await server.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]!.n);

  /** Waits until every committed event is below the horizon (another file's open transaction may hold it back). */
  const settled = () =>
    vi.waitFor(
      async () => {
        const items = await walk('');
        expect(items).toHaveLength(await eventCount());
        return items;
      },
      { timeout: 15_000, interval: 100 },
    );

  const positions = (items: readonly Item[]) => items.map((item) => item.position);

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { clients: [testClient, kiosk], trustProxy: 'loopback' });
    // The first account is the bootstrap admin.
    const auditor = await request(`${server.url}/users`, json({ user_name: 'auditor', password }));
    ids['auditor'] = auditor.body.id;
    admin = (await login('auditor', password)).body.access_token;

    const alice = await request(
      `${server.url}/users`,
      json({ user_name: 'Alice', password, email: 'alice@example.test', name: 'Alice Liddell' }, { authorization: basicAuth(testClient), 'x-request-id': 'req-register-alice' }),
    );
    ids['alice'] = alice.body.id;
    const bob = await request(`${server.url}/users`, json({ user_name: 'bob', password }, { authorization: basicAuth(kiosk) }));
    ids['bob'] = bob.body.id;

    const aliceLogin = await login('alice', password, { 'x-forwarded-for': outsideIp, 'user-agent': 'alice-browser', 'x-request-id': 'req-login-alice' });
    aliceToken = aliceLogin.body.access_token;
    const refreshed = await request(`${server.url}/auth/refresh-token`, json({ refresh_token: aliceLogin.body.refresh_token }, { 'x-forwarded-for': outsideIp }));
    expect(refreshed.status).toBe(201);
    expect((await login('ALICE', 'not her password', { 'x-forwarded-for': outsideIp })).status).toBe(400);
    expect((await login('ghost-of-nobody', 'whatever it was')).status).toBe(400);
    expect((await login('bob', password, {}, kiosk)).status).toBe(201);
    const { rows } = await server.pool.query<{ stream_id: string }>("SELECT stream_id FROM events WHERE type = 'TokenIssued' AND subject_id = $1", [ids['alice']]);
    aliceSession = rows[0]!.stream_id.slice('session-'.length);
    all = await settled();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers every event in commit order, with string positions and opened personal fields', () => {
    expect(all.map((item) => item.type)).toContain('UserRegistered');
    for (const item of all) {
      expect(item.position).toMatch(/^\d+$/);
      expect(Object.keys(item).sort()).toEqual(['data', 'metadata', 'position', 'recorded_at', 'stream_id', 'type']);
      expect(item.metadata).not.toHaveProperty('ipDigest');
      expect(item.data).not.toHaveProperty('$pii');
    }
    const registered = all.find((item) => item.type === 'UserRegistered' && item.data['userId'] === ids['alice'])!;
    expect(registered.data).toMatchObject({ userName: 'Alice', email: 'alice@example.test', name: 'Alice Liddell' });
  });

  it('user_id: every event about the user, their sessions included, and nobody else', async () => {
    const items = await walk(`user_id=${ids['alice']}`);
    expect(items.map((item) => item.type).sort()).toEqual(['LoginFailed', 'TokenIssued', 'TokenRefreshed', 'UserRegistered']);
    expect(items.some((item) => item.stream_id === `session-${aliceSession}`)).toBe(true);
    expect(positions(items)).toEqual(positions(all.filter((item) => items.some((mine) => mine.position === item.position))));
  });

  it('session_id: the events of the session', async () => {
    expect((await walk(`session_id=${aliceSession}`)).map((item) => item.type)).toEqual(['TokenIssued', 'TokenRefreshed']);
  });

  it('client_id: the events caused through the client', async () => {
    const items = await walk('client_id=kiosk');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((item) => item.metadata['clientId'] === 'kiosk')).toBe(true);
    expect(positions(items)).toEqual(positions(all.filter((item) => item.metadata['clientId'] === 'kiosk')));
  });

  it('type, repeatable: events of any of the types', async () => {
    const items = await walk('type=LoginFailed&type=TokenRefreshed');
    expect(positions(items)).toEqual(positions(all.filter((item) => item.type === 'LoginFailed' || item.type === 'TokenRefreshed')));
    expect(items.map((item) => item.type).sort()).toEqual(['LoginFailed', 'LoginFailed', 'TokenRefreshed']);
  });

  it('ip: the events from the IP, whether it is sealed (a person\'s) or in clear', async () => {
    const items = await walk(`ip=${outsideIp}`);
    expect(items.map((item) => item.type).sort()).toEqual(['LoginFailed', 'TokenIssued', 'TokenRefreshed']);
    expect(items.every((item) => item.metadata['ip'] === outsideIp)).toBe(true);
    const stored = await server.pool.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM events WHERE global_position = $1', [items[0]!.position]);
    expect(stored.rows[0]!.metadata).not.toHaveProperty('ip');
    // The mapped IPv6 form finds the same events.
    expect(positions(await walk(`ip=::ffff:${outsideIp}`))).toEqual(positions(items));
  });

  it('request_id: the events of the request', async () => {
    expect((await walk('request_id=req-login-alice')).map((item) => item.type)).toEqual(['TokenIssued']);
    expect((await walk('request_id=req-register-alice')).map((item) => item.type)).toEqual(['UserRegistered']);
  });

  it('from and to: recorded at or after from, and before to', async () => {
    const middle = all[Math.floor(all.length / 2)]!;
    const from = await walk(`from=${encodeURIComponent(middle.recorded_at)}`);
    expect(from.every((item) => item.recorded_at >= middle.recorded_at)).toBe(true);
    expect(positions(from)).toEqual(positions(all.filter((item) => item.recorded_at >= middle.recorded_at)));
    const to = await walk(`to=${encodeURIComponent(middle.recorded_at)}`);
    expect(positions(to)).toEqual(positions(all.filter((item) => item.recorded_at < middle.recorded_at)));
    // A date alone is midnight UTC.
    expect(await walk('to=2000-01-01')).toEqual([]);
  });

  it('user_name: the account\'s events and the failed logins typed with the name, compared as logins compare it', async () => {
    const items = await walk(`user_name=${encodeURIComponent('ＡＬＩＣＥ')}`);
    expect(positions(items)).toEqual(positions(await walk(`user_id=${ids['alice']}`)));
    const failure = items.find((item) => item.type === 'LoginFailed')!;
    expect(failure.data).toMatchObject({ userId: ids['alice'], reason: 'wrong_password', userNameDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('user_name: failed logins typed with a name that belongs to nobody, never shown as typed', async () => {
    const items = await walk('user_name=Ghost-Of-Nobody');
    expect(items.map((item) => item.type)).toEqual(['LoginFailed']);
    expect(items[0]!.data).toMatchObject({ userId: null, reason: 'unknown_user' });
    expect(JSON.stringify(items)).not.toMatch(/ghost/i);
    expect(await walk('user_name=nobody-typed-this')).toEqual([]);
  });

  it('combines filters: all must match', async () => {
    expect((await walk(`user_id=${ids['alice']}&type=LoginFailed&ip=${outsideIp}`)).map((item) => item.type)).toEqual(['LoginFailed']);
    expect(await walk(`user_id=${ids['bob']}&client_id=${testClient.clientId}&type=TokenIssued`)).toEqual([]);
  });

  it('pages with a cursor: the pages put together are the whole answer; an empty page ends the walk', async () => {
    const pages: Item[][] = [];
    let cursor: string | null = null;
    do {
      const reply = await page(`limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(reply.body.items.length).toBeLessThanOrEqual(3);
      pages.push(reply.body.items);
      cursor = reply.body.next_cursor;
      expect(cursor === null).toBe(reply.body.items.length === 0);
    } while (cursor !== null);
    expect(pages.flat()).toEqual(all);
    expect(pages.slice(0, -2).every((items) => items.length === 3)).toBe(true);
    expect(pages.at(-1)).toEqual([]);
    expect((await page('')).body.items).toHaveLength(Math.min(100, all.length));
  });

  it('never repeats or skips an event while writers append concurrently, late commits included', async () => {
    const start = all.at(-1)!;
    let writing = true;
    const metadata = (requestId: string) => ({ requestId, occurredAt: new Date().toISOString(), clientId: 'kiosk' });
    // Eight writers append to their own streams and to a shared one, one or several events at a time.
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let appended = 0; writing || appended < 20; appended += 1) {
        const events: DomainEvent[] = Array.from({ length: 1 + (appended % 3) }, (_, index) => ({
          type: 'LoginFailed',
          data: { userId: null, userNameDigest: UserNameDigest(`${writer}-${appended}-${index}`), clientId: ClientId('kiosk'), reason: 'unknown_user', consecutiveFailures: 1, failedAt: new Date().toISOString() },
        }));
        const streamId = appended % 2 === 0 ? `test-writer-${writer}` : 'test-shared';
        await server.deps.eventStore.append([{ streamId, events, expectedVersion: 'any' }], { metadata: metadata(`writer-${writer}-${appended}`) });
      }
    });
    // And transactions that write first and commit last: their events sort before others already readable.
    const late = (async () => {
      for (let round = 0; writing; round += 1) {
        const connection = await server.pool.connect();
        try {
          await connection.query('BEGIN');
          await connection.query(
            `INSERT INTO events (event_id, stream_id, stream_position, type, data, metadata, hash)
             VALUES (gen_random_uuid(), $1, 1, 'LateCommit', '{}', '{"requestId": "late"}', '\\x00')`,
            [`test-late-${round}`],
          );
          await new Promise((resolve) => setTimeout(resolve, 150));
          await connection.query('COMMIT');
        } finally {
          connection.release();
        }
      }
    })();
    // Walk from right after the log above while they write, five at a time.
    let cursor: string = await vi.waitFor(
      async () => {
        const reply = await page(`limit=${all.length}`);
        expect(reply.body.items.at(-1).position).toBe(start.position);
        return reply.body.next_cursor as string;
      },
      { timeout: 10_000, interval: 20 },
    );
    const seen: Item[] = [];
    const readOn = async () => {
      const reply = await page(`limit=5&cursor=${encodeURIComponent(cursor)}`);
      expect(reply.status).toBe(200);
      seen.push(...(reply.body.items as Item[]));
      if (reply.body.next_cursor !== null) cursor = reply.body.next_cursor;
      return reply.body.items.length as number;
    };
    for (let round = 0; round < 60; round += 1) await readOn();
    writing = false;
    await Promise.all([...writers, late]);
    const settledLog = await settled();
    while ((await readOn()) > 0);
    const after = settledLog.slice(settledLog.findIndex((item) => item.position === start.position) + 1);
    expect(after.filter((item) => item.type === 'LateCommit').length).toBeGreaterThan(0);
    expect(new Set(positions(seen)).size).toBe(seen.length);
    // What the walk saw is exactly the log after where it started, in its order.
    expect(positions(seen)).toEqual(positions(after));
    all = settledLog;
  });

  it('streams every matching event as NDJSON with Accept: application/x-ndjson', async () => {
    const response = await fetch(`${server.url}/audit/events?type=LoginFailed&limit=2`, { headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).split('\n');
    expect(lines.at(-1)).toBe('');
    const streamed = lines.slice(0, -1).map((line) => JSON.parse(line) as Item);
    expect(streamed.length).toBeGreaterThan(2);
    expect(streamed).toEqual(await walk('type=LoginFailed'));
  });

  it('streams a large export in many chunks, page after page', async () => {
    const events: DomainEvent[] = Array.from({ length: 50 }, (_, index) => ({ type: 'BulkTestEvent', data: { index, filler: 'x'.repeat(200) } }));
    for (let batch = 0; batch < 50; batch += 1) {
      await server.deps.eventStore.append([{ streamId: `test-bulk-${batch}`, events, expectedVersion: 'no_stream' }], { metadata: { requestId: `bulk-${batch}`, occurredAt: new Date().toISOString() } });
    }
    await settled();
    const response = await fetch(`${server.url}/audit/events?type=BulkTestEvent`, { headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' } });
    let chunks = 0;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      chunks += 1;
      text += decoder.decode(chunk, { stream: true });
    }
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Item);
    expect(lines).toHaveLength(2500);
    expect(new Set(lines.map((line) => line.position)).size).toBe(2500);
    expect(chunks).toBeGreaterThan(1);
  });

  it('refuses a caller without a token (401), with a bad one (401), and one who is not an admin (403)', async () => {
    const none = await request(`${server.url}/audit/events`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth"');
    const bad = await page('', 'not-a-token');
    expect(bad.status).toBe(401);
    const patron = await page('', aliceToken);
    expect(patron.status).toBe(403);
    expect(patron.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(patron.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const streamed = await page('', aliceToken, { accept: 'application/x-ndjson' });
    expect(streamed.status).toBe(403);
  });

  it('refuses bad parameters with 400 naming each, and an unknown one rather than ignoring it', async () => {
    const cases: [string, string][] = [
      ['userid=x', 'userid'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['user_id=nope', 'user_id'],
      ['user_id=a&user_id=b', 'user_id'],
      ['from=yesterday', 'from'],
      ['type=Login%20Failed', 'type.0'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['from=2026-02-01&to=2026-01-01', 'to'],
    ];
    for (const [query, path] of cases) {
      const reply = await page(query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.errors.map((error: { path: string }) => error.path), query).toContain(path);
    }
    const streamed = await page('cursor=bm90LWEtY3Vyc29y', admin, { accept: 'application/x-ndjson' });
    expect(streamed.status).toBe(400);
  });

  it('answers the same events through tRPC, the REST pages and the CLI', async () => {
    const caller = appRouter.createCaller({ deps: server.deps, requestContext: { requestId: 'trpc-audit' }, authorization: () => ({ scheme: 'bearer', token: admin }), noteClient: () => undefined });
    const viaRest = await walk(`user_name=alice`);
    const viaTrpc = await caller.audit.events({ userName: 'alice', limit: 1000 });
    expect(viaTrpc.nextCursor).toEqual(expect.any(String));
    expect(
      viaTrpc.items.map((item) => ({ position: item.position, stream_id: item.streamId, type: item.type, recorded_at: item.recordedAt, data: item.data, metadata: item.metadata })),
    ).toEqual(viaRest);
    await expect(
      appRouter.createCaller({ deps: server.deps, requestContext: { requestId: 'x' }, authorization: () => ({ scheme: 'bearer', token: aliceToken }), noteClient: () => undefined }).audit.events({}),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const env = { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) };
    const ndjson = await runCli(['audit', 'events', '--user-name', 'alice', '--format', 'ndjson'], env);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    expect(ndjson.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Item)).toEqual(viaRest);
    const asJson = await runCli(['audit', 'events', '--user', ids['alice']!, '--type', 'TokenIssued', '--type', 'LoginFailed', '--format', 'json'], env);
    expect(JSON.parse(asJson.stdout)).toEqual(await walk(`user_id=${ids['alice']}&type=TokenIssued&type=LoginFailed`));
    const table = await runCli(['audit', 'events', '--user-name', 'ghost-of-nobody', '--since', all[0]!.recorded_at], env);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^position\s+recorded_at\s+type\s+stream_id/);
    expect(table.stdout).toMatch(/LoginFailed\s+login-attempts-/);
    expect(table.stdout).not.toMatch(/ghost/i);
    const refused = await runCli(['audit', 'events', '--since', 'yesterday'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--since must be an ISO 8601 date or date-time');
  });
});

describe('GET /audit/login-activity', () => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    await request(`${server.url}/users`, json({ user_name: 'root', password }));
    admin = (await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'root', password }, { authorization: basicAuth(testClient) }))).body.access_token;
  });
  afterAll(async () => {
    await server?.close();
  });

  const activity = (query = '', token = admin) => request(`${server.url}/audit/login-activity${query}`, { headers: { authorization: `Bearer ${token}` } });

  it('keeps, per account, the last login and the failed logins since, from the log', async () => {
    const carol = await request(`${server.url}/users`, json({ user_name: `carol-${randomUUID().slice(0, 6)}`, password }));
    const attempt = (secret: string) =>
      request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: carol.body.user_name, password: secret }, { authorization: basicAuth(testClient) }));
    await attempt('wrong one');
    await attempt('wrong two');
    const failing = await vi.waitFor(
      async () => {
        const reply = await activity(`?user_id=${carol.body.id}`);
        expect(reply.body.items[0]).toMatchObject({ consecutive_failures: 2, last_failure_reason: 'wrong_password', last_login_at: null });
        return reply.body.items[0];
      },
      { timeout: 10_000 },
    );
    expect(failing.last_failure_at).toMatch(/Z$/);
    const carolToken = (await attempt(password)).body.access_token;
    await vi.waitFor(
      async () => {
        const reply = await activity(`?user_id=${carol.body.id}`);
        expect(reply.body.items[0]).toMatchObject({ consecutive_failures: 0, last_login_client_id: testClient.clientId, last_login_at: expect.stringMatching(/Z$/) });
      },
      { timeout: 10_000 },
    );
    expect((await activity('?min_failures=1')).body.items.map((item: { user_id: string }) => item.user_id)).not.toContain(carol.body.id);
    expect((await activity('', carolToken)).status).toBe(403);
    expect((await activity('?min_failures=-1')).status).toBe(400);
    // Pages by user id; tRPC answers the same.
    const all = (await activity()).body.items as { user_id: string }[];
    expect(all.map((item) => item.user_id)).toEqual([...all.map((item) => item.user_id)].sort());
    const first = await activity('?limit=1');
    expect(first.body.items).toEqual([all[0]]);
    const second = await activity(`?limit=1&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.items).toEqual([all[1]]);
    const viaTrpc = await appRouter
      .createCaller({ deps: server.deps, requestContext: { requestId: 'activity' }, authorization: () => ({ scheme: 'bearer', token: admin }), noteClient: () => undefined })
      .audit.loginActivity({ userId: carol.body.id });
    expect(viaTrpc.items).toEqual([expect.objectContaining({ userId: carol.body.id, consecutiveFailures: 0, lastLoginClientId: testClient.clientId })]);
  });
});
