import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { oas31 } from 'zod-openapi';
import { openApiDocument } from '../openapi.js';
import { createApp } from '../rest/app.js';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { bearer, password } from './accounts.js';
import { checkRepliesAgainst, form, json, request, type Reply } from './http.js';
import { createReplyChecker, type ReplyChecker } from './openapi-replies.js';

/** Every REST endpoint of API.md, as the document must list it. */
const apiEndpoints = [
  'POST /users',
  'GET /users',
  'GET /users/me',
  'GET /users/{id}',
  'PATCH /users/{id}',
  'DELETE /users/{id}',
  'POST /users/me/password',
  'POST /users/{id}/password',
  'GET /users/me/sessions',
  'GET /users/{id}/sessions',
  'DELETE /users/me/sessions/{id}',
  'DELETE /users/{id}/sessions/{sid}',
  'POST /auth/token',
  'POST /auth/refresh-token',
  'POST /oauth/token',
  'POST /auth/logout',
  'POST /oauth/revoke',
  'POST /oauth/introspect',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/jwks.json',
  'GET /health/live',
  'GET /health/ready',
];

/** The API's own policy, which every response but the /docs page keeps. */
const apiPolicy = "default-src 'none';frame-ancestors 'none'";

describe('the OpenAPI document', () => {
  let server: TestServer;
  let served: Reply;
  let document: oas31.OpenAPIObject;
  let checker: ReplyChecker;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    served = await request(`${server.url}/openapi.json`);
    document = served.body;
    checker = createReplyChecker(document);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is served at /openapi.json and validates as OpenAPI 3.1', async () => {
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    const validator = new Validator();
    const result = await validator.validate(served.body);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The document the tests check every reply against (`request`) is the very one served.
    expect(document).toEqual(openApiDocument(server.url));
  });

  it('lists every endpoint of API.md, its server (ISSUER), both security schemes, and says where tRPC is', () => {
    const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual([...apiEndpoints].sort());
    expect(document.servers).toEqual([{ url: server.url }]);
    expect(document.components?.securitySchemes).toMatchObject({
      clientBasic: { type: 'http', scheme: 'basic' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    expect(document.info.description).toContain('`/trpc`');
  });

  it('answers every endpoint, its success and its main refusals, as the document describes', async () => {
    const seen = new Set<string>();
    /** A request whose reply the checker must find an operation of the document for, and find right. */
    const call = async (endpoint: string, path: string, init: RequestInit = {}) => {
      const reply = await request(`${server.url}${path}`, init);
      expect(checker.check(init.method ?? 'GET', new URL(`${server.url}${path}`), reply), `${endpoint} ${reply.status}: ${reply.text}`).toEqual({
        operation: endpoint,
        problems: [],
      });
      seen.add(`${endpoint} ${reply.status}`);
      return reply;
    };
    const client = { authorization: basicAuth(server.client) };
    const patch = (body: unknown, headers: Record<string, string>): RequestInit => ({ ...json(body, headers), method: 'PATCH' });
    const remove = (headers: Record<string, string>): RequestInit => ({ method: 'DELETE', headers });
    const logIn = async (userName: string, secret = password) =>
      (await call('POST /auth/token', '/auth/token', json({ grant_type: 'password', user_name: userName, password: secret }, client))).body;

    // Accounts: the first one is the admin.
    const adminId = (await call('POST /users', '/users', json({ user_name: 'doc-admin', password }))).body.id;
    const patronId = (await call('POST /users', '/users', json({ user_name: 'doc-patron', password }, client))).body.id;
    await call('POST /users', '/users', json({ user_name: 'DOC-ADMIN', password }));
    await call('POST /users', '/users', json({ user_name: 'doc-climber', password, role: 'admin' }));
    await call('POST /users', '/users', json({ user_name: '' }));
    await call('POST /users', '/users', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'doc' });
    await call('POST /users', '/users', json({ user_name: 'doc-large', password: 'x'.repeat(20_000) }));
    await call('POST /users', '/users', json({ user_name: 'doc-sneaky', password }, bearer('not-a-token')));

    // Tokens.
    const admin = await logIn('doc-admin');
    await call('POST /auth/token', '/auth/token', json({ grant_type: 'password', user_name: 'doc-admin', password: 'not the password' }, client));
    await call('POST /auth/token', '/auth/token', json({ grant_type: 'password', user_name: 'doc-admin', password }));
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await call('POST /auth/token', '/auth/token', json({ grant_type: 'password', user_name: 'doc-nobody', password: 'not the password' }, client));
    }
    expect((await call('POST /auth/token', '/auth/token', json({ grant_type: 'password', user_name: 'doc-nobody', password }, client))).status).toBe(429);
    const viaStandard = (await call('POST /oauth/token', '/oauth/token', form({ grant_type: 'password', username: 'doc-patron', password }, client))).body;
    await call('POST /oauth/token', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: 'not-a-token' }, client));
    const patron = (await call('POST /auth/refresh-token', '/auth/refresh-token', { method: 'POST', headers: bearer(viaStandard.refresh_token) })).body;
    await call('POST /auth/refresh-token', '/auth/refresh-token', { method: 'POST', headers: bearer('not-a-token') });
    await call('POST /oauth/introspect', '/oauth/introspect', form({ token: admin.access_token }, client));
    await call('POST /oauth/introspect', '/oauth/introspect', form({ token: 'not-a-token' }, client));
    await call('POST /oauth/introspect', '/oauth/introspect', form({ token: admin.access_token }));

    // Reading accounts.
    await call('GET /users/me', '/users/me', { headers: bearer(admin.access_token) });
    await call('GET /users/me', '/users/me');
    await call('GET /users/me', `/users/me?q=${'x'.repeat(20_000)}`);
    await call('GET /users', '/users?limit=1', { headers: bearer(admin.access_token) });
    await call('GET /users', '/users', { headers: bearer(patron.access_token) });
    await call('GET /users', '/users?limit=1000', { headers: bearer(admin.access_token) });
    await call('GET /users/{id}', `/users/${patronId}`, { headers: bearer(admin.access_token) });
    await call('GET /users/{id}', `/users/${randomUUID()}`, { headers: bearer(admin.access_token) });
    await call('GET /users/{id}', `/users/${adminId}`, { headers: bearer(patron.access_token) });
    await call('GET /users/{id}', '/users/%E0%A4%A', { headers: bearer(admin.access_token) });

    // Changing accounts.
    await call('PATCH /users/{id}', `/users/${patronId}`, patch({ name: 'Doc Patron', email: 'patron@pos.example' }, bearer(admin.access_token)));
    await call('PATCH /users/{id}', `/users/${adminId}`, patch({ role: 'patron' }, bearer(admin.access_token)));
    await call('PATCH /users/{id}', `/users/${patronId}`, patch({ role: 'owner' }, bearer(admin.access_token)));

    // Sessions: the patron's second one, listed, ended by the patron; the first ended by the admin.
    await logIn('doc-patron');
    await call('GET /users/me/sessions', '/users/me/sessions', { headers: bearer(patron.access_token) });
    await call('GET /users/me/sessions', '/users/me/sessions');
    const listed = (await call('GET /users/{id}/sessions', `/users/${patronId}/sessions`, { headers: bearer(admin.access_token) })).body;
    await call('GET /users/{id}/sessions', `/users/${randomUUID()}/sessions`, { headers: bearer(admin.access_token) });
    const [secondId, firstId] = listed.map((session: { id: string }) => session.id);
    await call('DELETE /users/me/sessions/{id}', `/users/me/sessions/${secondId}`, remove(bearer(patron.access_token)));
    await call('DELETE /users/me/sessions/{id}', `/users/me/sessions/${secondId}`, remove(bearer(patron.access_token)));
    await call('DELETE /users/{id}/sessions/{sid}', `/users/${adminId}/sessions/${randomUUID()}`, remove(bearer(patron.access_token)));
    await call('DELETE /users/{id}/sessions/{sid}', `/users/${patronId}/sessions/${firstId}`, remove(bearer(admin.access_token)));

    // Passwords.
    const third = await logIn('doc-patron');
    await call('POST /users/{id}/password', `/users/${adminId}/password`, json({ new_password: 'another passphrase entirely' }, bearer(third.access_token)));
    await call('POST /users/{id}/password', `/users/${patronId}/password`, json({ new_password: 'another passphrase entirely' }, bearer(admin.access_token)));
    const fourth = await logIn('doc-patron', 'another passphrase entirely');
    await call('POST /users/me/password', '/users/me/password', json({ current_password: password, new_password: 'a third passphrase' }, bearer(fourth.access_token)));
    await call(
      'POST /users/me/password',
      '/users/me/password',
      json({ current_password: 'another passphrase entirely', new_password: 'a third passphrase' }, bearer(fourth.access_token)),
    );

    // Logout and revocation.
    const adminAgain = await logIn('doc-admin');
    await call('POST /auth/logout', '/auth/logout?scope=everything', { method: 'POST', headers: bearer(adminAgain.access_token) });
    await call('POST /auth/logout', '/auth/logout', { method: 'POST', headers: bearer(adminAgain.access_token) });
    await call('POST /oauth/revoke', '/oauth/revoke', form({ token: fourth.refresh_token }));
    await call('POST /oauth/revoke', '/oauth/revoke', form({ token: fourth.refresh_token }, client));

    // Erasure.
    const fifth = await logIn('doc-patron', 'a third passphrase');
    await call('DELETE /users/{id}', `/users/${adminId}`, remove(bearer(fifth.access_token)));
    await call('DELETE /users/{id}', `/users/${patronId}`, remove(bearer(admin.access_token)));

    // Discovery and health, and readiness refused by an app whose database is not ready.
    await call('GET /.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server');
    await call('GET /.well-known/jwks.json', '/.well-known/jwks.json');
    await call('GET /health/live', '/health/live');
    await call('GET /health/ready', '/health/ready');
    const notReady = await listen(createApp({ deps: server.deps, logger: pino({ level: 'silent' }), isReady: async () => false, issuer: server.url, signingKeys: server.deps.signingKeys }));
    try {
      const reply = await request(`${notReady.url}/health/ready`);
      expect(checker.check('GET', new URL(`${notReady.url}/health/ready`), reply)).toEqual({ operation: 'GET /health/ready', problems: [] });
      seen.add(`GET /health/ready ${reply.status}`);
    } finally {
      await notReady.close();
    }

    expect([...seen].sort()).toEqual(
      [
        'POST /users 201',
        'POST /users 400',
        'POST /users 401',
        'POST /users 403',
        'POST /users 409',
        'POST /users 413',
        'POST /users 415',
        'POST /auth/token 201',
        'POST /auth/token 400',
        'POST /auth/token 401',
        'POST /auth/token 429',
        'POST /oauth/token 200',
        'POST /oauth/token 400',
        'POST /auth/refresh-token 201',
        'POST /auth/refresh-token 400',
        'POST /oauth/introspect 200',
        'POST /oauth/introspect 401',
        'GET /users/me 200',
        'GET /users/me 401',
        'GET /users/me 431',
        'GET /users 200',
        'GET /users 400',
        'GET /users 403',
        'GET /users/{id} 200',
        'GET /users/{id} 400',
        'GET /users/{id} 403',
        'GET /users/{id} 404',
        'PATCH /users/{id} 200',
        'PATCH /users/{id} 400',
        'PATCH /users/{id} 409',
        'GET /users/me/sessions 200',
        'GET /users/me/sessions 401',
        'GET /users/{id}/sessions 200',
        'GET /users/{id}/sessions 404',
        'DELETE /users/me/sessions/{id} 204',
        'DELETE /users/me/sessions/{id} 404',
        'DELETE /users/{id}/sessions/{sid} 204',
        'DELETE /users/{id}/sessions/{sid} 403',
        'POST /users/{id}/password 204',
        'POST /users/{id}/password 403',
        'POST /users/me/password 204',
        'POST /users/me/password 400',
        'POST /auth/logout 204',
        'POST /auth/logout 400',
        'POST /oauth/revoke 200',
        'POST /oauth/revoke 401',
        'DELETE /users/{id} 204',
        'DELETE /users/{id} 403',
        'GET /.well-known/jwks.json 200',
        'GET /.well-known/oauth-authorization-server 200',
        'GET /health/live 200',
        'GET /health/ready 200',
        'GET /health/ready 503',
      ].sort(),
    );
    // Each operation of the document was answered with its success.
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item) as [string, oas31.OperationObject][]) {
        const successes = Object.keys(operation.responses ?? {}).filter((status) => status.startsWith('2'));
        expect(successes.map((status) => seen.has(`${method.toUpperCase()} ${path} ${status}`))).toEqual(successes.map(() => true));
      }
    }
  });

  describe('the check of a reply', () => {
    const user = {
      id: randomUUID(),
      user_name: 'ana',
      email: null,
      name: null,
      role: 'patron',
      disabled: false,
      created_at: '2026-12-02T08:00:00.000Z',
      updated_at: '2026-12-02T08:00:00.000Z',
    };
    const reply = (status: number, headers: Record<string, string>, body?: unknown) => ({
      status,
      headers: new Headers({ 'x-request-id': 'doc-test', ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...headers }),
      text: body === undefined ? '' : JSON.stringify(body),
    });
    const problemsOf = (method: string, path: string, checked: ReturnType<typeof reply>) => checker.check(method, new URL(`${server.url}${path}`), checked)?.problems;

    it('finds a right reply right', () => {
      expect(problemsOf('GET', '/users/me', reply(200, {}, user))).toEqual([]);
    });

    it('refuses a status, a body, a media type or a header that the document does not describe', () => {
      expect(problemsOf('GET', '/users/me', reply(418, {}, user))).toEqual(['status 418, which the document does not list']);
      expect(problemsOf('GET', '/users/me', reply(200, {}, { ...user, password_hash: '$argon2id$...' }))).toEqual([
        'a body that does not match the schema: (root) must NOT have additional properties (password_hash)',
      ]);
      expect(problemsOf('GET', '/users/me', reply(200, {}, { ...user, role: 'owner' }))?.[0]).toMatch(/^a body that does not match the schema: \/role/);
      expect(problemsOf('GET', '/users/me', reply(200, { 'content-type': 'text/html' }, user))).toEqual([
        'a body of text/html, where the document describes application/json',
      ]);
      expect(problemsOf('GET', '/users/me', reply(200, {}))).toEqual(['an empty body, where the document describes application/json']);
      expect(problemsOf('DELETE', `/users/${user.id}`, reply(204, {}, {}))).toEqual(['a body of application/json, where the document describes none']);
      const unauthenticated = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'No token.' };
      expect(problemsOf('GET', '/users/me', reply(401, { 'content-type': 'application/problem+json' }, unauthenticated))).toEqual([
        'the header WWW-Authenticate is missing',
      ]);
      expect(problemsOf('GET', '/users/me', reply(401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Digest' }, unauthenticated))?.[0]).toMatch(
        /^the header WWW-Authenticate \(Digest\)/,
      );
      expect(problemsOf('GET', '/users/me', { ...reply(200, {}, user), headers: new Headers({ 'content-type': 'application/json' }) })).toEqual([
        'the header X-Request-Id is missing',
      ]);
    });

    it('names the operation, a concrete path before a templated one, and checks nothing the document does not describe', () => {
      expect(checker.check('GET', new URL(`${server.url}/users/me`), reply(200, {}, user))?.operation).toBe('GET /users/me');
      expect(checker.check('GET', new URL(`${server.url}/users/someone`), reply(200, {}, user))?.operation).toBe('GET /users/{id}');
      expect(checker.check('PUT', new URL(`${server.url}/users/me`), reply(405, {}))).toBeNull();
      expect(checker.check('GET', new URL(`${server.url}/nowhere`), reply(404, {}))).toBeNull();
      expect(checker.check('GET', new URL(`${server.url}/trpc/users.me`), reply(200, {}, {}))).toBeNull();
      expect(checker.check('GET', new URL(`${server.url}/users//sessions`), reply(404, {}))).toBeNull();
    });

    it('makes request() throw for a reply that the document of its server does not describe', async () => {
      const withoutLive = structuredClone(document);
      delete withoutLive.paths!['/health/live']!.get!.responses!['200'];
      checkRepliesAgainst(server.url, withoutLive);
      try {
        await expect(request(`${server.url}/health/live`)).rejects.toThrow('GET /health/live answered 200, not as the OpenAPI document says: status 200');
      } finally {
        checkRepliesAgainst(server.url, document);
      }
    });
  });

  describe('/docs', () => {
    it("answers an HTML page that loads only this service's own assets, under a policy that allows just those", async () => {
      const page = await request(`${server.url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const policy = Object.fromEntries(
        page.headers
          .get('content-security-policy')!
          .split(';')
          .map((directive) => directive.trim().split(/\s+/u))
          .map(([name, ...sources]) => [name, sources]),
      );
      expect(policy).toEqual({
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'base-uri': ["'none'"],
        'form-action': ["'none'"],
        'frame-ancestors': ["'none'"],
      });

      const references = [...page.text.matchAll(/\b(?:src|href)="([^"]*)"/gu)].map((match) => match[1]!);
      expect(references.sort()).toEqual(['/docs/assets/favicon-32x32.png', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']);
      const types: Record<string, RegExp> = { js: /^(text|application)\/javascript/u, css: /^text\/css/u, png: /^image\/png/u };
      for (const reference of references) {
        const asset = await request(`${server.url}${reference}`);
        expect({ reference, status: asset.status }).toEqual({ reference, status: 200 });
        expect(asset.headers.get('content-type')).toMatch(types[reference.split('.').pop()!]!);
        // An asset is no document: the API's own policy, which forbids everything, stays on it.
        expect(asset.headers.get('content-security-policy')).toBe(apiPolicy);
        expect(asset.headers.get('cache-control')).toBe('no-store');
      }
      const init = await request(`${server.url}/docs/init.js`);
      expect(init.text).toContain("url: '/openapi.json'");
      expect(init.text).not.toMatch(/https?:/u);
    });

    it("serves no other file of the package, and leaves every other response the API's policy", async () => {
      for (const path of ['/docs/assets/index.html', '/docs/assets/swagger-initializer.js', '/docs/assets/package.json', '/docs/assets/%2e%2e/package.json']) {
        expect({ path, status: (await request(`${server.url}${path}`)).status }).toEqual({ path, status: 404 });
      }
      for (const path of ['/openapi.json', '/health/live', '/nowhere']) {
        expect((await request(`${server.url}${path}`)).headers.get('content-security-policy')).toBe(apiPolicy);
      }
      expect((await request(`${server.url}/docs`, { method: 'POST' })).status).toBe(405);
    });
  });
});

/** An app on its own loopback port. */
const listen = async (app: ReturnType<typeof createApp>): Promise<{ url: string; close(): Promise<void> }> => {
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
