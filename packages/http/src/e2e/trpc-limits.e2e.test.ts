import type { PasswordHasher } from '@pos-auth/domain';
import { createArgon2PasswordHasher } from '@pos-auth/infrastructure';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';

/**
 * tRPC over HTTP: a batch holds at most 10 calls and a larger one is refused before any call
 * runs (API.md "Abuse limits"), and an input that fails its schema gets a readable message.
 */
describe('tRPC limits and validation messages', () => {
  let server: TestServer;
  let verifies = 0;
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    const argon2 = await createArgon2PasswordHasher();
    // The real hasher, counted: a password check that ran shows up here.
    const counting: PasswordHasher = {
      hash: (plain) => argon2.hash(plain),
      verify: (hash, plain) => {
        verifies += 1;
        return argon2.verify(hash, plain);
      },
      dummyHash: argon2.dummyHash,
    };
    server = await startTestServer(inject('testDatabase'), { passwordHasher: counting });
    expect((await request(`${server.url}/users`, json({ user_name: 'batcher', password }))).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  const loginBatch = (calls: number) => {
    const paths = Array.from({ length: calls }, () => 'auth.token').join(',');
    const inputs = Object.fromEntries(
      // A name per call: ten failures for one name would meet its back-off before the tenth check.
      Array.from({ length: calls }, (_, i) => [i, { grantType: 'password', userName: `batcher-${i}`, password: `wrong guess ${i}` }]),
    );
    return request(`${server.url}/trpc/${paths}?batch=1`, json(inputs, { authorization: basicAuth(server.client) }));
  };
  const failedLogins = async () =>
    (await server.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE type = 'LoginFailed'")).rows[0]?.n;

  it('refuses an 11-call auth.token batch with 400 before any call runs: no password check, no LoginFailed', async () => {
    const before = { verifies, failed: await failedLogins() };
    const reply = await loginBatch(11);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    const errors = Array.isArray(reply.body) ? reply.body.map((item: { error: unknown }) => item.error) : [reply.body.error];
    for (const error of errors) expect(error).toMatchObject({ message: expect.stringMatching(/batch/i), data: { code: 'BAD_REQUEST', httpStatus: 400 } });
    expect({ verifies, failed: await failedLogins() }).toEqual(before);
  });

  it('runs a 10-call batch: ten password checks, ten LoginFailed', async () => {
    const before = { verifies, failed: await failedLogins() };
    const reply = await loginBatch(10);
    expect(reply.body).toHaveLength(10);
    for (const item of reply.body) expect(item.error.data).toMatchObject({ httpStatus: 400, domainCode: 'INVALID_GRANT' });
    expect({ verifies, failed: await failedLogins() }).toEqual({ verifies: before.verifies + 10, failed: (before.failed ?? 0) + 10 });
  });

  it('answers an input that fails its schema with one readable line and the field errors', async () => {
    const reply = await request(`${server.url}/trpc/users.register`, json({ password: 42, email: 'a\u0000@b.co' }));
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toBe('userName: is required; password: must be a string; email: must not contain U+0000');
    expect(reply.body.error.data).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      domainCode: null,
      fieldErrors: [
        { path: 'userName', message: 'is required' },
        { path: 'password', message: 'must be a string' },
        { path: 'email', message: 'must not contain U+0000' },
      ],
    });
  });
});
