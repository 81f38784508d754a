import { createHash } from 'node:crypto';
import { operatorPrincipal, registerUser, type PasswordHasher } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { userPageSize } from '../cli/commands/users.js';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { bearer, logIn, me, password, signUp } from './accounts.js';
import { json, request } from './http.js';
import { runCli, schemaDatabaseUrl } from './process.js';

/** A user resource as `users list --format json` and `GET /users` give it. */
interface UserItem {
  readonly id: string;
  readonly user_name: string;
  readonly role: string;
  readonly disabled: boolean;
}

/**
 * `pos-auth users ...`, the real binary against the schema of a real server, whose accounts are
 * then checked where they matter: logins and tokens over HTTP.
 */
describe('pos-auth users', () => {
  let server: TestServer;
  let env: Record<string, string>;
  /** Every command's output, to look for passwords in. */
  const outputs: string[] = [];
  const passwords = new Set<string>([password]);

  const run = async (args: readonly string[], input = '') => {
    const result = await runCli(args, env, input);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const createAdmin = (userName: string, secret: string, ...options: string[]) => {
    passwords.add(secret);
    return run(['users', 'create-admin', userName, ...options], `${secret}\n`);
  };
  const userCount = async () => Number((await server.pool.query<{ count: string }>('SELECT count(*) FROM users')).rows[0]!.count);
  const listed = async (...args: string[]) => {
    const result = await run(['users', 'list', ...args, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as UserItem[]).map((user) => `${user.user_name}:${user.role}${user.disabled ? ':disabled' : ''}`);
  };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    env = { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) };
  });
  afterAll(() => server?.close());

  it('users create-admin: an admin on an empty system, its password from standard input exactly as typed, recorded as the operator', async () => {
    // Spaces belong to the password: only the line break that ends the input is dropped.
    const spaced = ' first passphrase, with spaces ';
    const created = await createAdmin('root', spaced, '--email', 'root@example.test', '--name', 'The Root');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe('');
    const id = created.stdout.match(/^Created admin root \(id ([0-9a-f-]{36})\)\.\n$/u)?.[1];
    expect(id, created.stdout).toBeDefined();

    const tokens = await logIn(server.url, server.client, 'root', spaced);
    expect((await me(server.url, tokens.access_token)).body).toMatchObject({ id, user_name: 'root', role: 'admin', email: 'root@example.test', name: 'The Root' });
    expect((await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'root', password: spaced.trim() }, { authorization: basicAuth(server.client) }))).status).toBe(400);

    const { rows } = await server.pool.query<{ type: string; actor: string; client: string; request: string }>(
      "SELECT type, metadata->>'actorUserId' AS actor, metadata->>'clientId' AS client, metadata->>'requestId' AS request FROM events WHERE stream_id = $1",
      [`user-${id}`],
    );
    expect(rows).toEqual([{ type: 'UserRegistered', actor: operatorPrincipal.userId, client: operatorPrincipal.clientId, request: expect.stringMatching(/^cli-/u) }]);

    // The system is no longer empty: the next self-registration is a patron, not a second bootstrap admin.
    await signUp(server.url, 'first-patron');
    expect(await listed()).toEqual(['first-patron:patron', 'root:admin']);
  });

  it.each([
    ['a common password', 'password123', 'fresh-admin', 'password is too common: it is on a list of frequent or leaked passwords (PASSWORD_TOO_COMMON)'],
    ['a password containing the user name', 'my-Fresh-Admin-passphrase', 'fresh-admin', 'password must not contain the user name (PASSWORD_CONTAINS_USER_NAME)'],
    ['a password shorter than 8 characters', 'short', 'fresh-admin', 'password must be at least 8 characters long'],
    ['a user name already taken (compared as logins compare it)', 'another long passphrase', 'ROOT', 'This user name is already taken.'],
    ['a user name with whitespace', 'another long passphrase', 'two words', 'user_name must not contain whitespace or control characters'],
  ])('users create-admin refuses %s with its reason (exit 1), creating nothing', async (_, secret, userName, reason) => {
    const before = await userCount();
    const result = await createAdmin(userName, secret);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`pos-auth: ${reason}\n`);
    expect(await userCount()).toBe(before);
  });

  it('users disable: by user name (as logins compare it) or id; the account can no longer log in and its tokens stop at once', async () => {
    const adminToken = (await logIn(server.url, server.client, 'root', ' first passphrase, with spaces ')).access_token;
    const chefId = await signUp(server.url, 'chef-anna', { role: 'chef', adminToken });
    const managerId = await signUp(server.url, 'manager-bo', { role: 'manager', adminToken });
    const chefTokens = await logIn(server.url, server.client, 'chef-anna');
    expect((await me(server.url, chefTokens.access_token)).status).toBe(200);

    const byName = await run(['users', 'disable', 'Chef-Anna']);
    expect(byName).toEqual({
      code: 0,
      stdout: `Disabled user chef-anna (id ${chefId}): they can no longer log in, and their sessions have ended.\n`,
      stderr: '',
    });
    expect((await me(server.url, chefTokens.access_token)).status).toBe(401);
    const refused = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'chef-anna', password }, { authorization: basicAuth(server.client) }));
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });

    expect(await run(['users', 'disable', managerId.toUpperCase()])).toMatchObject({ code: 0, stdout: expect.stringContaining(`Disabled user manager-bo (id ${managerId})`) });
    expect(await run(['users', 'disable', 'chef-anna'])).toEqual({ code: 0, stdout: `User chef-anna (id ${chefId}) was already disabled.\n`, stderr: '' });
    const users = (await request(`${server.url}/users?disabled=true`, { headers: bearer(adminToken) })).body.items as UserItem[];
    expect(users.map((user) => user.user_name)).toEqual(['chef-anna', 'manager-bo']);
  });

  it('users disable refuses the last active admin with a clear message, and names that name no one (exit 1)', async () => {
    const rootId = (await server.pool.query<{ user_id: string }>("SELECT user_id FROM users WHERE role = 'admin'")).rows[0]!.user_id;
    const last = await run(['users', 'disable', 'root']);
    expect(last).toMatchObject({ code: 1, stdout: '' });
    expect(last.stderr).toBe('pos-auth: root is the last active admin, and the last active admin cannot be disabled: make another admin first (pos-auth users create-admin).\n');
    expect(await listed('--role', 'admin')).toEqual(['root:admin']);

    for (const nobody of ['nobody-at-all', '00000000-0000-4000-8000-000000000000']) {
      expect(await run(['users', 'disable', nobody])).toEqual({ code: 1, stdout: '', stderr: `pos-auth: No user has the name or id "${nobody}".\n` });
    }

    // With a second admin, the first may go.
    expect((await createAdmin('deputy', 'the second admin passphrase')).code).toBe(0);
    expect(await run(['users', 'disable', rootId])).toMatchObject({ code: 0, stdout: expect.stringContaining('Disabled user root') });
    expect(await listed('--role', 'admin')).toEqual(['deputy:admin', 'root:admin:disabled']);
  });

  it('users list: every account, filtered by role and disabled, as a table or JSON, never a password hash', async () => {
    expect(await listed()).toEqual(['chef-anna:chef:disabled', 'deputy:admin', 'first-patron:patron', 'manager-bo:manager:disabled', 'root:admin:disabled']);
    expect(await listed('--disabled')).toEqual(['chef-anna:chef:disabled', 'manager-bo:manager:disabled', 'root:admin:disabled']);
    expect(await listed('--no-disabled')).toEqual(['deputy:admin', 'first-patron:patron']);
    expect(await listed('--role', 'admin', '--no-disabled')).toEqual(['deputy:admin']);
    expect(await listed('--role', 'expeditor')).toEqual([]);

    const asTable = await run(['users', 'list', '--role', 'chef']);
    expect(asTable.code).toBe(0);
    expect(asTable.stderr).toBe('');
    const lines = asTable.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^user_name\s+role\s+disabled\s+email\s+created_at\s+id$/u);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^chef-anna\s+chef\s+true\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+[0-9a-f-]{36}$/u)]);

    const hashes = await server.pool.query<{ hash: string }>('SELECT password_hash AS hash FROM user_credentials');
    expect(hashes.rows.length).toBeGreaterThan(0);
    const everything = outputs.join('\n');
    for (const { hash } of hashes.rows) expect(everything).not.toContain(hash);
    expect(everything).not.toContain('$argon2');
  });

  it.each([
    ['a role that does not exist', ['users', 'list', '--role', 'boss'], "argument 'boss' is invalid"],
    ['an unknown format', ['users', 'list', '--format', 'xml'], "argument 'xml' is invalid"],
    ['create-admin without a user name', ['users', 'create-admin'], "missing required argument 'user_name'"],
    ['disable without a user', ['users', 'disable'], "missing required argument 'user'"],
    ['the group without a command', ['users'], 'Usage: pos-auth users'],
  ])('answers %s as a usage error (exit 2)', async (_, args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });

  it('prints no password it was given, whatever it answered', () => {
    const everything = outputs.join('\n');
    for (const secret of passwords) expect(everything).not.toContain(secret.trim());
  });
});

/** The list walks every page: more users than a page holds, each listed once, no progress bar off a terminal. */
describe('pos-auth users list over many pages', () => {
  let server: TestServer;
  const sha256 = (secret: string) => `sha256$${createHash('sha256').update(secret).digest('hex')}`;
  // Hashing is not what this test is about: 205 argon2 hashes would take a minute here.
  const standInHasher: PasswordHasher = {
    hash: async (secret) => sha256(secret),
    verify: async (hash, secret) => hash === sha256(secret),
    dummyHash: sha256('no password matches this'),
  };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { passwordHasher: standInHasher });
  });
  afterAll(() => server?.close());

  it(`lists ${userPageSize + 5} users, a page of ${userPageSize} and then the rest, each once and in order`, async () => {
    const names = Array.from({ length: userPageSize + 5 }, (_, index) => `cook-${String(index).padStart(3, '0')}`);
    for (let start = 0; start < names.length; start += 20) {
      await Promise.all(
        names
          .slice(start, start + 20)
          .map((userName) => registerUser(server.deps, { userName, password: 'a long enough passphrase', role: 'chef' }, { principal: operatorPrincipal, clientId: null }, { requestId: 'seed' })),
      );
    }
    const env = { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) };
    const asJson = await runCli(['users', 'list', '--format', 'json', '--role', 'chef'], env);
    expect(asJson).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(asJson.stdout) as UserItem[]).map((user) => user.user_name)).toEqual(names);
    const asTable = await runCli(['users', 'list'], env);
    expect(asTable).toMatchObject({ code: 0, stderr: '' });
    expect(asTable.stdout.trimEnd().split('\n')).toHaveLength(names.length + 1);
  });
});
