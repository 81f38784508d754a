import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe('the event log after the seed flow', () => {
  let server: TestServer;
  const password = 'a passphrase nobody may log';
  const wrongPassword = 'another secret nobody may log';
  const secrets: string[] = [password, wrongPassword];
  /** As stored: for what must never be in the log. */
  let rows: { stream_id: string; type: string; data: any; metadata: any; text: string }[] = [];
  /** As read back through the store, personal fields opened: for what the log records. */
  let events: readonly RecordedEvent[] = [];
  const userAgent = 'pos-admin-panel/1.0 (audit test)';

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    const headers = { authorization: basicAuth(server.client), 'user-agent': userAgent, 'x-request-id': 'req-login-1' };
    await request(`${server.url}/users`, json({ user_name: 'auditee', password, email: 'auditee@example.com' }, { 'x-request-id': 'req-register-1', 'user-agent': userAgent }));
    const login = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'auditee', password }, headers));
    expect(login.status).toBe(201);
    await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'auditee', password: wrongPassword }, headers));
    await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'ghost', password: wrongPassword }, headers));
    const refreshed = await request(`${server.url}/auth/refresh-token`, json({ refresh_token: login.body.refresh_token }, { 'user-agent': userAgent }));
    expect(refreshed.status).toBe(201);
    secrets.push(login.body.access_token, login.body.refresh_token, refreshed.body.access_token, refreshed.body.refresh_token);
    const hash = await server.pool.query<{ password_hash: string }>('SELECT password_hash FROM user_credentials');
    secrets.push(...hash.rows.map((row) => row.password_hash), server.client.clientSecret);

    const result = await server.pool.query('SELECT stream_id, type, data, metadata, data::text || metadata::text AS text FROM events ORDER BY global_position');
    rows = result.rows;
    // readAll stops at the oldest transaction still running on the server, which may be another
    // test file's: wait until every event written above is readable.
    events = await vi.waitFor(
      async () => {
        const read = (await server.deps.eventStore.readAll()).events;
        expect(read).toHaveLength(rows.length);
        return read;
      },
      { timeout: 10_000 },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('holds UserRegistered, TokenIssued, LoginFailed and TokenRefreshed, in that order', () => {
    expect(rows.map((row) => row.type)).toEqual([
      'ClientRegistered',
      // The first account is the bootstrap admin: it opens the admin roster in the same atomic
      // append (whose streams are written in stream-id order, so that appends lock them alike).
      'AdminRosterOpened',
      'ActiveAdminAdded',
      'UserRegistered',
      'TokenIssued',
      'LoginFailed',
      'LoginFailed',
      'TokenRefreshed',
    ]);
    const failures = events.filter((event) => event.type === 'LoginFailed');
    expect(failures.map((event) => (event.data as { reason: string }).reason)).toEqual(['wrong_password', 'unknown_user']);
    // Known and unknown names alike: one back-off stream per name, keyed by the name's keyed hash.
    for (const failure of failures) expect(failure.streamId).toMatch(/^login-attempts-[0-9a-f]{64}$/);
    expect(failures[0]!.data).toMatchObject({ userId: rows.find((row) => row.type === 'UserRegistered')!.data.userId, consecutiveFailures: 1 });
    expect(failures[1]!.data).toMatchObject({ userId: null, consecutiveFailures: 1 });
  });

  it('records who, from where and through which client in the metadata', () => {
    const issued = events.find((event) => event.type === 'TokenIssued')!;
    expect(issued.metadata).toMatchObject({
      requestId: 'req-login-1',
      clientId: 'admin-panel',
      userAgent,
      ip: expect.stringMatching(/127\.0\.0\.1$/),
      occurredAt: expect.stringMatching(/Z$/),
    });
    expect(events.find((event) => event.type === 'UserRegistered')!.metadata.requestId).toBe('req-register-1');
    for (const event of events.filter((e) => e.type === 'LoginFailed' || e.type === 'TokenRefreshed')) {
      expect(event.metadata).toMatchObject({ clientId: 'admin-panel', ip: expect.any(String), userAgent, requestId: expect.any(String) });
    }
  });

  it('stores the IP and user agent of an event about a person sealed, never in clear', () => {
    const stored = rows.find((row) => row.type === 'TokenIssued')!;
    expect(stored.metadata).not.toHaveProperty('ip');
    expect(stored.text).not.toContain(userAgent);
    expect(stored.metadata).toHaveProperty('$pii');
  });

  it('stores tokens only as SHA-256 digests', () => {
    const issued = rows.find((row) => row.type === 'TokenIssued')!;
    const refreshed = rows.find((row) => row.type === 'TokenRefreshed')!;
    expect(issued.data.accessTokenDigest).toBe(sha256(secrets[2]!));
    expect(issued.data.refreshTokenDigest).toBe(sha256(secrets[3]!));
    expect(refreshed.data.previousRefreshTokenDigest).toBe(sha256(secrets[3]!));
    expect(refreshed.data.refreshTokenDigest).toBe(sha256(secrets[5]!));
  });

  it('holds no password, password hash, client secret or raw token anywhere', () => {
    expect(secrets).toHaveLength(8); // 2 passwords, 4 tokens, 1 hash, 1 client secret
    const log = rows.map((row) => row.text).join('\n');
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain('$argon2');
  });
});
