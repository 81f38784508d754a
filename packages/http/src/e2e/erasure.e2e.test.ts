import { randomBytes } from 'node:crypto';
import { UserId, authenticateAccessToken, erasedValue, eraseUser } from '@pos-auth/domain';
import { verifyEventLog } from '@pos-auth/infrastructure';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth, startTestServer, testClient, type TestServer } from '../testing.js';
import { json, request } from './http.js';
import { everyTableAsText } from './inspect.js';

const password = 'correct horse battery staple';

interface Item {
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

describe('erasing a person (crypto-shredding)', () => {
  let server: TestServer;
  let admin: string;
  let erinId: string;
  // Everything personal about Erin, each distinctive enough to search the whole database for.
  const tag = randomBytes(5).toString('hex');
  const erin = { userName: `erin-${tag}`, email: `erin.${tag}@example.test`, name: `Erin Moss ${tag}`, userAgent: `erins-tablet/${tag}`, ip: '198.51.100.77' };
  const headers = { 'x-forwarded-for': erin.ip, 'user-agent': erin.userAgent };

  const audit = async (query: string): Promise<Item[]> => {
    const reply = await request(`${server.url}/audit/events?${query}&limit=1000`, { headers: { authorization: `Bearer ${admin}` } });
    expect(reply.status).toBe(200);
    return reply.body.items;
  };
  const login = (userName: string, secret: string, from: Record<string, string> = headers) =>
    request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password: secret }, { authorization: basicAuth(testClient), ...from }));

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { trustProxy: 'loopback' });
    await request(`${server.url}/users`, json({ user_name: 'dpo', password }));
    admin = (await login('dpo', password, {})).body.access_token;
    const registered = await request(`${server.url}/users`, json({ user_name: erin.userName, password, email: erin.email, name: erin.name }, headers));
    erinId = registered.body.id;
    const session = await login(erin.userName, password);
    await request(`${server.url}/auth/refresh-token`, json({ refresh_token: session.body.refresh_token }, headers));
    await login(erin.userName, 'not her password');
    await vi.waitFor(async () => expect((await audit(`user_id=${erinId}`)).map((item) => item.type)).toContain('LoginFailed'), { timeout: 10_000 });
    const before = await audit(`user_id=${erinId}`);
    expect(JSON.stringify(before)).toContain(erin.email);

    const principal = await authenticateAccessToken(server.deps, admin);
    await eraseUser(server.deps, principal, UserId(erinId), { requestId: 'erase-erin' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('shows every personal field of every event about the person as erased, the events themselves kept', async () => {
    const items = await vi.waitFor(
      async () => {
        // Read once every event is readable: the log shows none past a transaction still running elsewhere.
        const found = await audit(`user_id=${erinId}`);
        expect(found.map((item) => item.type)).toEqual(['UserRegistered', 'TokenIssued', 'TokenRefreshed', 'LoginFailed', 'UserErased', 'SessionRevoked']);
        return found;
      },
      { timeout: 10_000 },
    );
    const registered = items[0]!;
    expect(registered.data).toMatchObject({ userId: erinId, userName: erasedValue, userNameKey: erasedValue, email: erasedValue, name: erasedValue, role: 'patron' });
    for (const item of items.filter((event) => event.type !== 'UserErased' && event.type !== 'SessionRevoked')) {
      expect(item.metadata, item.type).toMatchObject({ ip: erasedValue, userAgent: erasedValue });
    }
    expect(JSON.stringify(items)).not.toMatch(new RegExp(`${tag}|${erin.ip.replaceAll('.', '\\.')}`));
    // The IP's keyed digest still finds the events, though the IP itself is gone.
    expect((await audit(`ip=${erin.ip}`)).map((item) => item.type)).toEqual(['UserRegistered', 'TokenIssued', 'TokenRefreshed', 'LoginFailed']);
  });

  it('leaves no plaintext of it in any table: log, projections, claims, read models', async () => {
    const dump = await everyTableAsText(server);
    expect(dump).toContain(erinId);
    for (const value of Object.values(erin)) expect(dump, value).not.toContain(value);
  });

  it('keeps the log intact: every hash chain still verifies', async () => {
    const report = await verifyEventLog(server.pool);
    expect(report).toMatchObject({ ok: true, damageCount: 0 });
    expect(report.events).toBeGreaterThan(10);
  });

  it('frees the user name (and email) for a new account, which then logs in', async () => {
    const again = await request(`${server.url}/users`, json({ user_name: erin.userName, password, email: erin.email }));
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(erinId);
    expect((await login(erin.userName, password)).status).toBe(201);
    // By name, the new account's events, and every failed login typed with the name, the old one's too.
    const byName = await vi.waitFor(
      async () => {
        const found = await audit(`user_name=${erin.userName}`);
        expect(found.map((item) => item.type)).toContain('TokenIssued');
        return found;
      },
      { timeout: 10_000 },
    );
    // The login also clears the name's failure count, which the old account's failure left at 1.
    expect(byName.map((item) => item.type)).toEqual(['LoginFailed', 'UserRegistered', 'FailedLoginsCleared', 'TokenIssued']);
    expect(byName[0]!.data).toMatchObject({ userId: erinId });
    expect(byName[1]!.data).toMatchObject({ userId: again.body.id, userName: erin.userName });
  });
});
