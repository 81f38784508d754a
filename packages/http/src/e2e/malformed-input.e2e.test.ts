import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { request } from './http.js';

/**
 * Whatever arrives at the three seed endpoints, the answer is never a 5xx and always a JSON error
 * in the documented shape: OAuth (RFC 6749 §5.2) on the token endpoints, problem details elsewhere.
 */
describe('malformed requests to the seed endpoints (property)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
  });
  afterAll(async () => {
    await server?.close();
  });

  const fieldNames = ['user_name', 'username', 'password', 'grant_type', 'refresh_token', 'email', 'role', 'name', 'scope', 'client_id', 'client_secret', '__proto__', 'constructor'];
  const jsonValue = fc.oneof(
    fc.string(),
    fc.constantFrom('password', 'refresh_token', 'admin', '', 'a@b.co'),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  );
  const bodyObject = fc.dictionary(fc.constantFrom(...fieldNames), jsonValue, { maxKeys: 6 });

  const body = fc.oneof(
    bodyObject.map((value) => ({ kind: 'json', text: JSON.stringify(value) })),
    bodyObject.map((value) => ({
      kind: 'form',
      text: new URLSearchParams(
        Object.entries(value).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      ).toString(),
    })),
    fc.json().map((text) => ({ kind: 'json', text })),
    fc.string({ maxLength: 200 }).map((text) => ({ kind: 'raw', text })),
    fc.constant({ kind: 'empty', text: '' }),
  );

  const contentType = fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json; charset=klingon',
      '',
    ),
    fc.string({ maxLength: 40 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
  );

  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.constant(basicAuth({ clientId: 'admin-panel', clientSecret: 'admin-panel-secret' })),
    fc.string({ maxLength: 60 }).map((text) => `Basic ${Buffer.from(text).toString('base64')}`),
    fc.string({ maxLength: 60 }).filter((value) => /^[\x21-\x7e]*$/.test(value)).map((text) => `Bearer ${text}`),
    fc.string({ maxLength: 60 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
  );

  const endpoint = fc.constantFrom('/users', '/auth/token', '/auth/refresh-token');

  it('never answers 5xx, and every error is JSON in the documented shape', async () => {
    await fc.assert(
      fc.asyncProperty(endpoint, body, contentType, authorization, async (path, payload, type, auth) => {
        const headers: Record<string, string> = {};
        if (type !== '') headers['content-type'] = type;
        if (auth !== undefined) headers['authorization'] = auth;
        const reply = await request(`${server.url}${path}`, { method: 'POST', headers, body: payload.text });
        expect(reply.status).toBeLessThan(500);
        if (reply.status < 400) return; // a random body can be a valid sign-up
        const mediaType = reply.headers.get('content-type') ?? '';
        if (path === '/users') {
          expect(mediaType).toMatch(/^application\/problem\+json/);
          expect(reply.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: reply.status, detail: expect.any(String) });
          if (reply.status === 400 && reply.body.errors !== undefined) {
            for (const error of reply.body.errors) expect(error).toEqual({ path: expect.any(String), message: expect.any(String) });
          }
        } else {
          expect(mediaType).toMatch(/^application\/json/);
          expect(reply.body).toEqual({ error: expect.stringMatching(/^[a-z_]+$/), error_description: expect.any(String) });
        }
      }),
      { numRuns: 300 },
    );
  });
});
