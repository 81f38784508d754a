import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth } from '../testing.js';
import { bearer, password, signUp, type Tokens } from './accounts.js';
import { json, request, type Reply } from './http.js';
import { schemaDatabaseUrl, startProcess, stopProcess, type ServerProcess } from './process.js';

/** The server's JSON log lines. */
const linesOf = (output: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * The real server process with logs at debug: one of each login and refresh outcome, over REST
 * and tRPC, then what the log says of each request, and that no secret of any of them is anywhere
 * in it.
 */
describe('request logs', () => {
  const client = { clientId: 'observed-panel', clientSecret: 'observed-panel-secret' };
  const userName = 'observed';
  const nobody = 'observed-nobody';
  let schema: TestSchema;
  let server: ServerProcess;
  const secrets: string[] = [password, client.clientSecret, basicAuth(client)];
  /** What each request of the traffic was answered, by its X-Request-Id. */
  const replies = new Map<string, Reply>();
  let userId: string;
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

  beforeAll(async () => {
    schema = await createTestSchema(inject('testDatabase'));
    server = await startProcess({
      DATABASE_URL: schemaDatabaseUrl(schema),
      AUTH_CLIENTS: `${client.clientId}:${client.clientSecret}`,
      LOG_LEVEL: 'debug',
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
      else expect(reply.status).toBe(400);
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
