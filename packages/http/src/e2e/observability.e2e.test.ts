import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth } from '../testing.js';
import { bearer, password, signUp, type Tokens } from './accounts.js';
import { json, request, type Reply } from './http.js';
import { schemaDatabaseUrl, startProcess, stopProcess, type ServerProcess } from './process.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition. */
const samplesOf = (text: string): Sample[] =>
  text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/u.exec(line)!;
      return {
        name: name!,
        labels: Object.fromEntries([...labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/gu)].map(([, key, text]) => [key!, text!])),
        value: Number(value),
      };
    });

/** The one sample of `name` whose labels include `labels`; undefined when there is none. */
const sampleValue = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
};

/** The server's JSON log lines. */
const linesOf = (output: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * The real server process with metrics behind METRICS_TOKEN and logs at debug: one of each login
 * and refresh outcome, over REST and tRPC, then what `/metrics` counted and what the log says of
 * each request, and that no secret of any of them is anywhere in the log.
 */
describe('metrics and request logs', () => {
  const client = { clientId: 'observed-panel', clientSecret: 'observed-panel-secret' };
  const metricsToken = 'metrics-scraper-token-for-the-test';
  const userName = 'observed';
  const nobody = 'observed-nobody';
  let schema: TestSchema;
  let server: ServerProcess;
  const secrets: string[] = [password, client.clientSecret, basicAuth(client), metricsToken];
  /** What each request of the traffic was answered, by its X-Request-Id. */
  const replies = new Map<string, Reply>();
  let userId: string;
  let failedLogins = 0;
  let throttledLogins = 0;

  const send = async (requestId: string, path: string, init: RequestInit = {}) => {
    const reply = await request(`${server.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-request-id': requestId } });
    replies.set(requestId, reply);
    return reply;
  };
  const passwordLogin = (requestId: string, name: string, secret: string) =>
    send(requestId, '/auth/token', json({ grant_type: 'password', user_name: name, password: secret }, { authorization: basicAuth(client) }));
  const refreshWith = async (requestId: string, refreshToken: string) => {
    const reply = await send(requestId, '/auth/refresh-token', { method: 'POST', headers: bearer(refreshToken) });
    if (reply.status === 201) secrets.push(reply.body.access_token, reply.body.refresh_token);
    return reply;
  };
  const scrape = (headers: Record<string, string> = { authorization: `Bearer ${metricsToken}` }) => request(`${server.url}/metrics`, { headers });

  beforeAll(async () => {
    schema = await createTestSchema(inject('testDatabase'));
    server = await startProcess({
      DATABASE_URL: schemaDatabaseUrl(schema.connectionString, schema.schema),
      AUTH_CLIENTS: `${client.clientId}:${client.clientSecret}`,
      LOG_LEVEL: 'debug',
      METRICS_TOKEN: metricsToken,
      // The first failure opens a back-off window: the next attempt at once is throttled.
      LOGIN_FAILURE_LIMIT: '1',
      REFRESH_REUSE_GRACE: '300',
    });

    userId = await signUp(server.url, userName);
    const login = await passwordLogin('obs-login', userName, password);
    expect(login.status).toBe(201);
    const tokens = login.body as Tokens;
    secrets.push(tokens.access_token, tokens.refresh_token);
    expect((await send('obs-me', `/users/me?access_token=${tokens.access_token}`, { headers: bearer(tokens.access_token) })).status).toBe(200);
    expect((await send('obs-user', `/users/${userId}`, { headers: bearer(tokens.access_token) })).status).toBe(200);

    // A wrong login, then attempts at once until one falls in the back-off window: each attempt
    // that comes after a window is a failure again, and opens a longer window (1 s, 2 s, 4 s).
    for (let attempt = 0; throttledLogins === 0; attempt += 1) {
      expect(attempt).toBeLessThan(4);
      const reply = await passwordLogin(`obs-wrong-${attempt}`, nobody, `${password} but wrong`);
      if (reply.status === 429) throttledLogins += 1;
      else {
        expect(reply.status).toBe(400);
        failedLogins += 1;
      }
    }

    const child = await refreshWith('obs-rotate', tokens.refresh_token);
    expect(child.status).toBe(201);
    const replayed = await refreshWith('obs-replay', tokens.refresh_token);
    expect(replayed.body.refresh_token).toBe(child.body.refresh_token);
    expect((await refreshWith('obs-rotate-again', child.body.refresh_token)).status).toBe(201);
    // The login's refresh token, two rotations back: reuse, and the session ends.
    expect((await refreshWith('obs-reuse', tokens.refresh_token)).status).toBe(400);
    expect((await refreshWith('obs-unknown', 'no-such-refresh-token')).status).toBe(400);

    const trpcLogin = await send('obs-trpc-login', '/trpc/auth.token', json({ grantType: 'password', userName, password }, { authorization: basicAuth(client) }));
    expect(trpcLogin.status).toBe(200);
    const trpcTokens = trpcLogin.body.result.data as { accessToken: string; refreshToken: string };
    secrets.push(trpcTokens.accessToken, trpcTokens.refreshToken);
    expect((await send('obs-trpc-batch', '/trpc/users.me,users.me?batch=1', { headers: bearer(trpcTokens.accessToken) })).status).toBe(200);
    expect((await send('obs-ready', '/health/ready')).status).toBe(200);
    // A line is written once its response has ended, asynchronously: the last one closes the traffic.
    await vi.waitFor(() => expect(server.output()).toContain('"requestId":"obs-ready"'));
  }, 60_000);
  afterAll(async () => {
    if (server) await stopProcess(server.child);
    await schema?.drop();
  });

  it('answers /metrics only with the Bearer token of METRICS_TOKEN', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${metricsToken}` }]) {
      const refused = await scrape(headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth metrics"');
    }
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/u);
  });

  it('counts every login and refresh by outcome', async () => {
    const samples = samplesOf((await scrape()).text);
    expect(failedLogins).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'pos_auth_logins_total', { outcome: 'success' })).toBe(2);
    expect(sampleValue(samples, 'pos_auth_logins_total', { outcome: 'wrong_credentials' })).toBe(failedLogins);
    expect(sampleValue(samples, 'pos_auth_logins_total', { outcome: 'throttled' })).toBe(throttledLogins);
    expect(sampleValue(samples, 'pos_auth_refreshes_total', { outcome: 'rotated' })).toBe(2);
    expect(sampleValue(samples, 'pos_auth_refreshes_total', { outcome: 'replayed' })).toBe(1);
    expect(sampleValue(samples, 'pos_auth_refreshes_total', { outcome: 'reuse_detected' })).toBe(1);
    expect(sampleValue(samples, 'pos_auth_refreshes_total', { outcome: 'refused' })).toBe(1);
  });

  it('counts requests by method, route pattern and status, and times hashing, appends and the pool', async () => {
    const text = (await scrape()).text;
    const samples = samplesOf(text);
    const requests = (method: string, route: string, status: number) =>
      sampleValue(samples, 'pos_auth_http_request_duration_seconds_count', { method, route, status: String(status) });
    expect(requests('POST', '/users', 201)).toBe(1);
    expect(requests('POST', '/auth/token', 201)).toBe(1);
    expect(requests('POST', '/auth/token', 400)).toBe(failedLogins);
    expect(requests('POST', '/auth/token', 429)).toBe(throttledLogins);
    expect(requests('GET', '/users/me', 200)).toBe(1);
    expect(requests('GET', '/users/:id', 200)).toBe(1);
    expect(requests('POST', '/auth/refresh-token', 201)).toBe(3);
    expect(requests('POST', '/auth/refresh-token', 400)).toBe(2);
    expect(requests('POST', '/trpc/auth.token', 200)).toBe(1);
    expect(requests('GET', '/trpc/(batch)', 200)).toBe(1);
    expect(requests('GET', '/health/ready', 200)).toBe(1);
    // Route patterns only: no id, no token, no query string in any label.
    for (const sample of samples) expect(Object.values(sample.labels).join(' ')).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}|\?/u);
    for (const secret of [...secrets, userId]) expect(text).not.toContain(secret);

    expect(sampleValue(samples, 'pos_auth_password_hash_duration_seconds_count', { operation: 'hash' })).toBe(1);
    // Two logins, each wrong one, and none for a throttled attempt (refused before any verify).
    expect(sampleValue(samples, 'pos_auth_password_hash_duration_seconds_count', { operation: 'verify' })).toBe(2 + failedLogins);
    expect(sampleValue(samples, 'pos_auth_event_append_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(7);
    expect(sampleValue(samples, 'pos_auth_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'pos_auth_db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'pos_auth_db_pool_waiting_requests')).toBe(0);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('logs one line per request with its id, method, route, status, latency and client, and a refusal with its reason', () => {
    const lines = linesOf(server.output());
    const lineOf = (requestId: string) => {
      const found = lines.filter((line) => line['requestId'] === requestId);
      expect(found, requestId).toHaveLength(1);
      expect(found[0]!['latencyMs']).toEqual(expect.any(Number));
      return found[0]!;
    };
    const info = 30;
    expect(lineOf('obs-login')).toMatchObject({ level: info, msg: 'request completed', method: 'POST', route: '/auth/token', status: 201, clientId: client.clientId });
    expect(lineOf('obs-me')).toMatchObject({ method: 'GET', route: '/users/me', status: 200, clientId: client.clientId });
    expect(lineOf('obs-user')).toMatchObject({ route: '/users/:id', status: 200, clientId: client.clientId });
    expect(lineOf('obs-wrong-0')).toMatchObject({
      level: info,
      msg: 'request refused',
      route: '/auth/token',
      status: 400,
      clientId: client.clientId,
      code: 'INVALID_GRANT',
      reason: 'unknown_user',
    });
    const throttled = [...replies].find(([, reply]) => reply.status === 429)![0];
    expect(lineOf(throttled)).toMatchObject({ msg: 'request refused', status: 429, code: 'TOO_MANY_ATTEMPTS' });
    expect(lineOf('obs-rotate')).toMatchObject({ msg: 'request completed', route: '/auth/refresh-token', status: 201 });
    expect(lineOf('obs-replay')).toMatchObject({ route: '/auth/refresh-token', status: 201 });
    expect(lineOf('obs-reuse')).toMatchObject({ msg: 'request refused', status: 400, code: 'INVALID_GRANT', reason: 'refresh_token_reused' });
    expect(lineOf('obs-unknown')).toMatchObject({ status: 400, reason: 'unknown_refresh_token' });
    expect(lineOf('obs-trpc-login')).toMatchObject({ method: 'POST', route: '/trpc/auth.token', procedures: ['auth.token'], status: 200, clientId: client.clientId });
    expect(lineOf('obs-trpc-batch')).toMatchObject({ route: '/trpc/(batch)', procedures: ['users.me', 'users.me'], status: 200, clientId: client.clientId });
    // Probes are frequent: debug, while they succeed.
    expect(lineOf('obs-ready')).toMatchObject({ level: 20, route: '/health/ready', status: 200 });
  });

  it('writes no secret to the log: no password, token, client secret, Authorization value or query string', () => {
    const output = server.output();
    expect(secrets.length).toBeGreaterThanOrEqual(12);
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toContain('access_token=');
    expect(output).not.toMatch(/"(authorization|cookie|headers)"/iu);
  });
});

describe('metrics on a port of their own (METRICS_PORT)', () => {
  let schema: TestSchema;
  let server: ServerProcess;
  beforeAll(async () => {
    schema = await createTestSchema(inject('testDatabase'));
    server = await startProcess({ DATABASE_URL: schemaDatabaseUrl(schema.connectionString, schema.schema), METRICS_PORT: '0' });
  }, 60_000);
  afterAll(async () => {
    if (server) await stopProcess(server.child);
    await schema?.drop();
  });

  it('serves /metrics there only, and says where at start', async () => {
    const listening = linesOf(server.output()).find((line) => line['msg'] === 'pos-auth listening')!;
    const metricsUrl = listening['metricsUrl'] as string;
    expect(new URL(metricsUrl).port).not.toBe(new URL(server.url).port);
    const scraped = await request(metricsUrl);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('pos_auth_logins_total{outcome="success"} 0');
    expect((await request(`${server.url}/metrics`)).status).toBe(404);
    expect((await request(metricsUrl.replace('/metrics', '/users'))).status).toBe(404);
    expect((await request(metricsUrl, { method: 'POST' })).status).toBe(405);
  });
});
