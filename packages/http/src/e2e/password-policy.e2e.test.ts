import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

/**
 * NIST SP 800-63B-4 §3.1.1.2 as API.md "Abuse limits" states it: a common password (a dictionary
 * of 49,233) or one containing the user name is a 400 with its own code and an error for
 * `password`, on REST and tRPC alike.
 */
describe('password policy over HTTP', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
  });
  afterAll(async () => {
    await server?.close();
  });

  const cases: [string, string, string, string][] = [
    ['password', 'common-1', 'PASSWORD_TOO_COMMON', 'urn:pos-auth:problem:password-too-common'],
    ['12345678', 'common-2', 'PASSWORD_TOO_COMMON', 'urn:pos-auth:problem:password-too-common'],
    ['password1', 'common-3', 'PASSWORD_TOO_COMMON', 'urn:pos-auth:problem:password-too-common'],
    ['PassWord1', 'common-4', 'PASSWORD_TOO_COMMON', 'urn:pos-auth:problem:password-too-common'],
    ['i am Maximilian, hello', 'maximilian', 'PASSWORD_CONTAINS_USER_NAME', 'urn:pos-auth:problem:password-contains-user-name'],
    ['xXＭＡＸＩＭＩＬＩＡＮXx', 'Maximilian', 'PASSWORD_CONTAINS_USER_NAME', 'urn:pos-auth:problem:password-contains-user-name'],
  ];

  it.each(cases)('POST /users refuses %j (user %s) with %s', async (password, userName, code, type) => {
    const reply = await request(`${server.url}/users`, json({ user_name: userName, password }));
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toEqual({
      type,
      title: expect.any(String),
      status: 400,
      detail: expect.any(String),
      code,
      errors: [{ path: 'password', message: expect.any(String) }],
    });
  });

  it.each(cases)('tRPC users.register refuses %j (user %s) with %s', async (password, userName, code) => {
    const reply = await request(`${server.url}/trpc/users.register`, json({ userName, password }));
    expect(reply.status).toBe(400);
    expect(reply.body.error.data).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      domainCode: code,
      fieldErrors: [{ path: 'password', message: expect.any(String) }],
    });
  });

  it('says VALIDATION_FAILED, listing every field, when the password is not the only thing wrong', async () => {
    const reply = await request(`${server.url}/users`, json({ user_name: 'x', password: 'password1', email: 'not an email' }));
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_FAILED');
    expect(reply.body.errors.map((error: { path: string }) => error.path)).toEqual(['user_name', 'password', 'email']);
  });

  it('accepts a passphrase that is neither', async () => {
    const reply = await request(`${server.url}/users`, json({ user_name: 'maximilian', password: 'correct horse battery staple' }));
    expect(reply.status).toBe(201);
  });
});
