import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

/**
 * A failure inside the service (here: a projection table gone missing under it) is logged with its
 * cause and the request id, and the caller gets a generic 500 in the documented shape.
 */
describe('failures inside the service', () => {
  let server: TestServer;
  const logs: Record<string, any>[] = [];
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    server = await startTestServer(inject('testDatabase'), { logger: pino({ level: 'error' }, sink) });
    await request(`${server.url}/users`, json({ user_name: 'victim', password }));
    await server.pool.query('ALTER TABLE users RENAME TO users_gone');
  });
  afterAll(async () => {
    await server?.pool.query('ALTER TABLE users_gone RENAME TO users').catch(() => undefined);
    await server?.close();
  });

  it('answers a token endpoint with a bare server_error and logs the cause', async () => {
    const reply = await request(
      `${server.url}/auth/token`,
      json({ grant_type: 'password', user_name: 'victim', password }, { authorization: basicAuth(server.client), 'x-request-id': 'req-broken-1' }),
    );
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ error: 'server_error', error_description: 'An unexpected error occurred. It has been logged.' });
    expect(reply.text).not.toMatch(/users|relation|select|postgres/i);
    const entry = logs.find((log) => log.requestId === 'req-broken-1');
    expect(entry).toMatchObject({ msg: 'request failed', err: { message: expect.stringContaining('users') } });
  });

  it('answers other endpoints with a problem that shows nothing internal', async () => {
    const reply = await request(`${server.url}/users`, json({ user_name: 'another', password }, { 'x-request-id': 'req-broken-2' }));
    expect(reply.status).toBe(500);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred. It has been logged.',
    });
    expect(logs.some((log) => log.requestId === 'req-broken-2' && log.err?.stack)).toBe(true);
  });

  it('answers tRPC with INTERNAL_SERVER_ERROR and a generic message, and logs the cause', async () => {
    const before = logs.length;
    const reply = await request(`${server.url}/trpc/users.register`, json({ userName: 'third', password }));
    expect(reply.status).toBe(500);
    expect(reply.body.error.message).toBe('An unexpected error occurred. It has been logged.');
    expect(reply.text).not.toMatch(/relation|users_gone|stack/i);
    expect(logs.slice(before).some((log) => log.msg === 'tRPC procedure failed')).toBe(true);
  });
});
