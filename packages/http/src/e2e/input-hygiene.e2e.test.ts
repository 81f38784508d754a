import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request, type Reply } from './http.js';

/**
 * Text that PostgreSQL refuses (U+0000, unpaired surrogates), control characters, bodies that do
 * not decode and paths that do not percent-decode: each is a 4xx in the endpoint's documented
 * shape, naming the field where there is one, and never reaches the database.
 */
describe('input hygiene at the edge', () => {
  let server: TestServer;
  const password = 'correct horse battery staple';
  const raw = (body: string, contentType = 'application/json', headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });

  const logs: Record<string, any>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    server = await startTestServer(inject('testDatabase'), { logger: pino({ level: 'info' }, sink) });
    expect((await request(`${server.url}/users`, json({ user_name: 'owner', password }))).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  const expectFieldProblem = (reply: Reply, path: string, message: RegExp) => {
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: 400, errors: expect.arrayContaining([{ path, message: expect.stringMatching(message) }]) });
  };
  const expectInvalidRequest = (reply: Reply, field: string) => {
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining(field) });
  };

  // Raw JSON text, so that `\u0000` and `\ud800` arrive as the escapes a client would send.
  it.each([
    ['U+0000 in user_name', '{"user_name":"ev\\u0000il","password":"correct horse battery staple"}', 'user_name', /U\+0000/],
    ['an unpaired surrogate in user_name', '{"user_name":"ev\\ud800il","password":"correct horse battery staple"}', 'user_name', /surrogate/],
    ['U+0000 in name', '{"user_name":"named","password":"correct horse battery staple","name":"A\\u0000"}', 'name', /U\+0000/],
    ['an unpaired low surrogate in name', '{"user_name":"named","password":"correct horse battery staple","name":"\\udc00"}', 'name', /surrogate/],
    ['a control character in name', '{"user_name":"named","password":"correct horse battery staple","name":"bell\\u0007"}', 'name', /control/],
    ['a C1 control character in email', '{"user_name":"named","password":"correct horse battery staple","email":"a\\u0085@b.co"}', 'email', /control/],
    ['U+0000 in email', '{"user_name":"named","password":"correct horse battery staple","email":"a\\u0000@b.co"}', 'email', /U\+0000/],
    ['U+0000 in password', '{"user_name":"named","password":"correct horse\\u0000battery"}', 'password', /U\+0000/],
    ['an unpaired surrogate in password', '{"user_name":"named","password":"correct horse \\ud83dbattery"}', 'password', /surrogate/],
  ])('POST /users refuses %s with a 400 naming the field', async (_, body, path, message) => {
    expectFieldProblem(await request(`${server.url}/users`, raw(body)), path, message);
  });

  it('lets a password hold control characters (it is hashed, never stored or shown), and a name a surrogate pair', async () => {
    const reply = await request(`${server.url}/users`, json({ user_name: 'tabby', password: 'tab\there\u0007bell!', name: 'Zoë 🍕' }));
    expect(reply.status).toBe(201);
    expect(reply.body.name).toBe('Zoë 🍕');
  });

  it.each([
    ['JSON user_name with U+0000', raw('{"grant_type":"password","user_name":"ow\\u0000ner","password":"x"}'), 'user_name'],
    ['JSON username with an unpaired surrogate', raw('{"grant_type":"password","username":"\\ud800","password":"x"}'), 'username'],
    ['JSON password with U+0000', raw('{"grant_type":"password","user_name":"owner","password":"a\\u0000"}'), 'password'],
    ['form user_name with %00', raw('grant_type=password&user_name=ow%00ner&password=x', 'application/x-www-form-urlencoded'), 'user_name'],
    ['form scope with a control character', raw('grant_type=password&user_name=owner&password=x&scope=%07', 'application/x-www-form-urlencoded'), 'scope'],
    ['JSON refresh_token with U+0000', raw('{"grant_type":"refresh_token","refresh_token":"\\u0000"}'), 'refresh_token'],
  ])('POST /auth/token refuses %s with invalid_request naming it', async (_, init, field) => {
    const headers = { ...(init.headers as Record<string, string>), authorization: basicAuth(server.client) };
    expectInvalidRequest(await request(`${server.url}/auth/token`, { ...init, headers }), field);
  });

  it('reads a percent-encoded unpaired surrogate in a form as U+FFFD, so the login is just wrong (400 invalid_grant)', async () => {
    const reply = await request(
      `${server.url}/oauth/token`,
      raw('grant_type=password&username=%ED%A0%80owner&password=x', 'application/x-www-form-urlencoded', { authorization: basicAuth(server.client) }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_grant');
  });

  it('refuses an unknown user name cut in the middle of a surrogate pair only as a wrong login', async () => {
    // 63 letters and an emoji: the failed-login event keeps 64 code points, never half a pair.
    const reply = await request(
      `${server.url}/auth/token`,
      json({ grant_type: 'password', user_name: `${'a'.repeat(63)}😀😀`, password: 'x' }, { authorization: basicAuth(server.client) }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_grant');
  });

  it('logs the private reason of a refusal that the client is told less about', async () => {
    const authorization = `Basic ${Buffer.from('admin-panel%00:admin-panel-secret').toString('base64')}`;
    const reply = await request(
      `${server.url}/auth/token`,
      json({ grant_type: 'password', user_name: 'owner', password }, { authorization, 'x-request-id': 'req-nul-basic' }),
    );
    expect(reply.body.error_description).toBe('Client authentication failed.');
    expect(logs.find((log) => log.requestId === 'req-nul-basic')).toMatchObject({
      msg: 'request refused',
      status: 401,
      reason: 'basic_credentials_with_forbidden_characters',
    });
  });

  it('logs what kind of body could not be parsed, never the parser\'s message, which quotes the body', async () => {
    // An unquoted password: V8's JSON.parse message quotes the text around the error.
    const body = `{"grant_type": "password", "user_name": "owner", "password": ${password.replaceAll(' ', '')}}`;
    const replies = [
      await request(`${server.url}/auth/token`, raw(body, 'application/json', { authorization: basicAuth(server.client), 'x-request-id': 'req-bad-json-rest' })),
      await request(`${server.url}/trpc/auth.token`, raw(body, 'application/json', { authorization: basicAuth(server.client), 'x-request-id': 'req-bad-json-trpc' })),
    ];
    expect(replies.map((reply) => reply.status)).toEqual([400, 400]);
    expect(logs.find((log) => log.requestId === 'req-bad-json-rest')).toMatchObject({ reason: 'entity.parse.failed' });
    expect(logs.find((log) => log.requestId === 'req-bad-json-trpc')).toMatchObject({ reason: 'unparsable_json' });
    expect(JSON.stringify(logs)).not.toContain(password.replaceAll(' ', '').slice(0, 10));
  });

  it.each([
    ['U+0000 in the id', 'admin-panel%00', 'admin-panel-secret'],
    ['U+0000 in the secret', 'admin-panel', 'admin-panel-secret%00'],
    ['a control character in the id', 'admin%07panel', 'admin-panel-secret'],
    ['a percent-encoded unpaired surrogate in the id', 'admin%ED%A0%80', 'admin-panel-secret'],
    ['broken percent-encoding in the id', 'admin%E0%A4%A', 'admin-panel-secret'],
  ])('answers a Basic header with %s as a failed client authentication (401 invalid_client)', async (_, id, secret) => {
    const authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const reply = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'owner', password }, { authorization }));
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toBe('Basic realm="pos-auth"');
    expect(reply.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    const registration = await request(`${server.url}/users`, json({ user_name: 'via-basic', password }, { authorization }));
    expect(registration.status).toBe(401);
  });

  describe('encodings', () => {
    const gzipped = (value: unknown) => gzipSync(JSON.stringify(value));

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ])('inflates a %s body on REST', async (encoding, compress) => {
      const reply = await request(`${server.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: compress(JSON.stringify({ user_name: `zipped-${encoding}`, password })),
      });
      expect(reply.status).toBe(201);
    });

    it.each([
      ['/users', 'problem'],
      ['/auth/token', 'oauth'],
    ])('answers %s with 415 for a Content-Encoding it does not decode, and 400 for a body that does not inflate', async (path, shape) => {
      const unknown = await request(`${server.url}${path}`, raw('{}', 'application/json', { 'content-encoding': 'x-klingon' }));
      expect(unknown.status).toBe(415);
      const corrupt = await request(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: Buffer.concat([gzipped({ user_name: 'x' }).subarray(0, 12), Buffer.from('not gzip at all')]),
      });
      expect(corrupt.status).toBe(400);
      for (const reply of [unknown, corrupt]) {
        if (shape === 'problem') expect(reply.body).toMatchObject({ type: 'about:blank', status: reply.status, detail: expect.any(String) });
        else expect(reply.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      }
    });

    it('answers tRPC with 415 for any Content-Encoding, in tRPC shape, before the call runs', async () => {
      const reply = await request(`${server.url}/trpc/users.register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipped({ userName: 'trpc-zipped', password }),
      });
      expect(reply.status).toBe(415);
      expect(reply.body.error.data).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 });
    });
  });

  it.each([
    ['GET', '/users/%E0%A4%A'],
    ['GET', '/users/%'],
    ['POST', '/users/%zz'],
    ['GET', '/nowhere/%E0%A4%A'],
  ])('answers %s %s (broken percent-encoding) with a 4xx problem', async (method, path) => {
    const reply = await request(`${server.url}${path}`, { method });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: reply.status, title: expect.any(String), detail: expect.any(String) });
  });

  it.each([['/trpc/users.me%E0%A4%A'], ['/trpc/%'], ['/trpc/users.me,%E0?batch=1']])(
    'answers GET %s (broken percent-encoding) with a 4xx in tRPC shape',
    async (path) => {
      const reply = await request(`${server.url}${path}`);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      const errors = Array.isArray(reply.body) ? reply.body.map((item: { error: unknown }) => item.error) : [reply.body.error];
      for (const error of errors) expect(error).toMatchObject({ message: expect.any(String), data: { httpStatus: expect.any(Number) } });
    },
  );

  it('answers a URL over 16 KiB with 431 problem details, on tRPC paths too', async () => {
    for (const path of [`/users/me?q=${'x'.repeat(20_000)}`, `/trpc/users.me?input=${'x'.repeat(20_000)}`]) {
      const reply = await request(`${server.url}${path}`);
      expect(reply.status).toBe(431);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(reply.body).toEqual({ type: 'about:blank', title: 'Request Header Fields Too Large', status: 431, detail: expect.any(String) });
    }
  });

  it('answers a request that is not valid HTTP with 400 problem details', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /users/me HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('refuses U+0000 and unpaired surrogates in tRPC inputs with a 400 naming the field', async () => {
    const register = await request(`${server.url}/trpc/users.register`, raw('{"userName":"ev\\u0000il","password":"correct horse battery staple"}'));
    expect(register.status).toBe(400);
    expect(register.body.error.data.fieldErrors).toEqual([{ path: 'userName', message: 'must not contain U+0000' }]);
    const token = await request(
      `${server.url}/trpc/auth.token`,
      raw('{"grantType":"password","userName":"\\ud800","password":"x"}', 'application/json', { authorization: basicAuth(server.client) }),
    );
    expect(token.status).toBe(400);
    expect(token.body.error.data.fieldErrors).toEqual([{ path: 'userName', message: 'must not contain unpaired surrogates' }]);
  });
});
