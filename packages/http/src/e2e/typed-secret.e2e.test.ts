import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { appRouter } from '../trpc/router.js';
import { basicAuth, startTestServer, testClient, type TestServer } from '../testing.js';
import { form, json, request } from './http.js';
import { capturedLogger, everyTableAsText } from './inspect.js';

describe('a password typed into the user-name field of a failed login', () => {
  let server: TestServer;
  const logs = capturedLogger();
  // What someone who mistook the field would type: a password, with upper case, digits and symbols.
  const typed = `Tr0ub4dor&3-${randomBytes(9).toString('base64url')}`;
  const forms = [typed, typed.toLowerCase(), typed.normalize('NFKC').toLowerCase()];

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { logger: logs.logger });
    await request(`${server.url}/users`, json({ user_name: 'owner', password: 'correct horse battery staple' }));
    const headers = { authorization: basicAuth(testClient) };
    // Every way in: the seed's endpoint as JSON and as a form, the OAuth endpoint, and tRPC.
    expect((await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: typed, password: 'anything at all' }, headers))).status).toBe(400);
    expect((await request(`${server.url}/auth/token`, form({ grant_type: 'password', username: typed, password: 'anything at all' }, headers))).status).toBe(400);
    expect((await request(`${server.url}/oauth/token`, form({ grant_type: 'password', username: typed, password: 'anything at all' }, headers))).status).toBe(400);
    const trpc = await request(`${server.url}/trpc/auth.token`, json({ grantType: 'password', userName: typed, password: 'anything at all' }, headers));
    expect(trpc.status).toBe(400);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is recorded as failed logins an auditor can find by the name, without the name', async () => {
    const admin = (await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'owner', password: 'correct horse battery staple' }, { authorization: basicAuth(testClient) })))
      .body.access_token as string;
    const found = await vi.waitFor(
      async () => {
        const reply = await request(`${server.url}/audit/events?user_name=${encodeURIComponent(typed)}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(reply.body.items).toHaveLength(4);
        return reply;
      },
      { timeout: 10_000 },
    );
    expect(found.body.items.map((item: { type: string }) => item.type)).toEqual(['LoginFailed', 'LoginFailed', 'LoginFailed', 'LoginFailed']);
    expect(found.body.items.map((item: { data: { consecutiveFailures: number } }) => item.data.consecutiveFailures)).toEqual([1, 2, 3, 4]);
    for (const secret of forms) expect(found.text).not.toContain(secret);
    const viaTrpc = await appRouter
      .createCaller({ deps: server.deps, requestContext: { requestId: 'audit' }, authorization: () => ({ scheme: 'bearer', token: admin }), noteClient: () => undefined })
      .audit.events({ userName: typed });
    expect(viaTrpc.items).toHaveLength(4);
  });

  it('appears nowhere in the database: no table of the schema holds it, in any form', async () => {
    const dump = await everyTableAsText(server);
    expect(dump).toContain('LoginFailed');
    for (const secret of forms) expect(dump.toLowerCase()).not.toContain(secret.toLowerCase());
  });

  it('appears nowhere in the logs, at their most verbose', () => {
    expect(logs.output()).toContain('"level"');
    for (const secret of forms) expect(logs.output().toLowerCase()).not.toContain(secret.toLowerCase());
  });
});
