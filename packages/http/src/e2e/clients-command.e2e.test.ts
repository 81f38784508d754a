import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClientSeed } from '../config.js';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { password } from './accounts.js';
import { json, request } from './http.js';
import { runCli, schemaDatabaseUrl } from './process.js';

/**
 * `pos-auth clients ...`, the real binary against the schema of a real server, whose clients are
 * then checked where they matter: `POST /auth/token`, over HTTP. The server's clock is the real one
 * until a test moves it past a rotation's overlap.
 */
describe('pos-auth clients', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let heldAt: number | null = null;
  const clock = { now: () => (heldAt === null ? new Date() : new Date(heldAt)) };
  /** Every command's output, to look for secrets in. */
  const outputs: { readonly args: readonly string[]; readonly stdout: string; readonly stderr: string }[] = [];
  /** Every secret a test chose (never to be printed) or had generated (printed once, by its command). */
  const chosenSecrets: string[] = [];
  const generatedSecrets: string[] = [];

  const run = async (args: readonly string[], input = '') => {
    const result = await runCli(args, env, input);
    outputs.push({ args, stdout: result.stdout, stderr: result.stderr });
    return result;
  };
  const chosen = (secret: string) => {
    chosenSecrets.push(secret);
    return secret;
  };
  /** The secret a `--generate-secret` run printed: the line after its announcement. */
  const generatedBy = (stdout: string) => {
    const match = stdout.match(/^The secret, shown only this once \(the service keeps only its digest\):\n([A-Za-z0-9_-]{43})\n$/mu);
    expect(match, stdout).not.toBeNull();
    generatedSecrets.push(match![1]!);
    return match![1]!;
  };
  /** What `POST /auth/token` answers a password login through this client: 201, or 401 `invalid_client`. */
  const logInThrough = async (client: ClientSeed) => {
    const reply = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'owner', password }, { authorization: basicAuth(client) }));
    if (reply.status !== 201) expect(reply.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    return reply.status;
  };
  const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { clock });
    env = { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) };
    expect((await request(`${server.url}/users`, json({ user_name: 'owner', password }))).status).toBe(201);
  });
  afterAll(() => server?.close());

  it('clients add: the secret from standard input, as an argument, or generated and printed once; register-client still works', async () => {
    const fromStdin = { clientId: unique('till'), clientSecret: chosen('a till secret from stdin') };
    expect(await run(['clients', 'add', fromStdin.clientId], `${fromStdin.clientSecret}\n`)).toEqual({ code: 0, stdout: `Registered client ${fromStdin.clientId}.\n`, stderr: '' });
    expect(await logInThrough(fromStdin)).toBe(201);

    const asArgument = { clientId: unique('kiosk'), clientSecret: chosen('a kiosk secret argument') };
    expect(await run(['clients', 'add', asArgument.clientId, asArgument.clientSecret])).toMatchObject({ code: 0, stdout: `Registered client ${asArgument.clientId}.\n` });
    expect(await logInThrough(asArgument)).toBe(201);

    const generatedId = unique('kitchen');
    const generated = await run(['clients', 'add', generatedId, '--generate-secret']);
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    expect(generated.stdout).toMatch(new RegExp(`^Registered client ${generatedId}\\.\\n`, 'u'));
    const secret = generatedBy(generated.stdout);
    expect(await logInThrough({ clientId: generatedId, clientSecret: secret })).toBe(201);
    expect(await logInThrough({ clientId: generatedId, clientSecret: 'not-the-secret' })).toBe(401);

    const legacy = { clientId: unique('legacy'), clientSecret: chosen('a secret for the old name') };
    expect(await run(['register-client', legacy.clientId], legacy.clientSecret)).toMatchObject({ code: 0, stdout: `Registered client ${legacy.clientId}.\n` });
    expect(await logInThrough(legacy)).toBe(201);
  });

  it.each([
    ['an id already registered', 1, ['clients', 'add', 'admin-panel'], 'another long secret', 'A client with id "admin-panel" is already registered.'],
    ['a secret shorter than 8 characters', 1, ['clients', 'add', 'short-one'], 'short\n', 'client_secret must be at least 8 characters long'],
    ['no secret at all', 1, ['clients', 'add', 'silent-one'], '', 'client_secret must be at least 8 characters long'],
    ['a secret and --generate-secret', 2, ['clients', 'add', 'both-ways', 'a given secret', '--generate-secret'], '', 'give a secret or --generate-secret, not both'],
    ['no client id', 2, ['clients', 'add'], '', "missing required argument 'client_id'"],
  ])('clients add refuses %s (exit %i), registering nothing', async (_, code, args, input, message) => {
    const before = await server.pool.query('SELECT client_id FROM clients ORDER BY client_id');
    const result = await run(args, input);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at /u);
    expect((await server.pool.query('SELECT client_id FROM clients ORDER BY client_id')).rows).toEqual(before.rows);
  });

  it('clients list: every client with its registration and last rotation, as a table or JSON, never a secret or a digest', async () => {
    const { rows } = await server.pool.query<{ client_id: string; registered_at: Date; secret_rotated_at: Date | null }>(
      'SELECT client_id, registered_at, secret_rotated_at FROM clients ORDER BY client_id',
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const asJson = await run(['clients', 'list', '--format', 'json']);
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual(
      rows.map((row) => ({ client_id: row.client_id, registered_at: row.registered_at.toISOString(), secret_rotated_at: row.secret_rotated_at?.toISOString() ?? null })),
    );
    const asTable = await run(['clients', 'list']);
    expect(asTable.code).toBe(0);
    const lines = asTable.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^client_id\s+registered_at\s+secret_rotated_at$/u);
    expect(lines.slice(1).map((line) => line.split(/\s+/u)[0])).toEqual(rows.map((row) => row.client_id));
    const digests = await server.pool.query<{ text: string }>('SELECT secret_digest AS text FROM client_credentials');
    for (const { text } of digests.rows) expect(asJson.stdout + asTable.stdout).not.toContain(text);
    expect(asJson.stdout + asTable.stdout).not.toContain(server.client.clientSecret);
  });

  it('clients rotate-secret: during the overlap both secrets authenticate at POST /auth/token, after it only the new one', async () => {
    const client = { clientId: unique('orders'), clientSecret: chosen('the orders first secret') };
    expect((await run(['clients', 'add', client.clientId], client.clientSecret)).code).toBe(0);
    const next = { clientId: client.clientId, clientSecret: chosen('the orders second secret') };

    const rotated = await run(['clients', 'rotate-secret', client.clientId, '--overlap', '600'], `${next.clientSecret}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    const until = rotated.stdout.match(/^Client \S+ has a new secret; the one it replaced keeps working until (\S+) \(600 s\), then no more\.\n$/u)?.[1];
    expect(until, rotated.stdout).toBeDefined();
    expect(Date.parse(until!) - Date.now()).toBeGreaterThan(500_000);
    expect(Date.parse(until!) - Date.now()).toBeLessThanOrEqual(600_000);

    expect(await logInThrough(client)).toBe(201);
    expect(await logInThrough(next)).toBe(201);
    heldAt = Date.parse(until!) - 1;
    expect(await logInThrough(client)).toBe(201);
    heldAt = Date.parse(until!);
    expect(await logInThrough(client)).toBe(401);
    expect(await logInThrough(next)).toBe(201);
    heldAt = null;

    // Recorded as an event of the command's own request, with neither secret in the log.
    const { rows } = await server.pool.query<{ data: { previousSecretValidUntil: string }; request_id: string }>(
      "SELECT data, metadata->>'requestId' AS request_id FROM events WHERE stream_id = $1 AND type = 'ClientSecretRotated'",
      [`client-${client.clientId}`],
    );
    expect(rows).toEqual([{ data: expect.objectContaining({ previousSecretValidUntil: until }), request_id: expect.stringMatching(/^cli-[0-9a-f-]{36}$/u) }]);
  });

  it('clients rotate-secret --overlap 0 --generate-secret: the old secret stops at once, the printed one works', async () => {
    const client = { clientId: unique('bar'), clientSecret: chosen('the bar first secret') };
    expect((await run(['clients', 'add', client.clientId], client.clientSecret)).code).toBe(0);
    const rotated = await run(['clients', 'rotate-secret', client.clientId, '--overlap', '0', '--generate-secret']);
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    expect(rotated.stdout).toMatch(new RegExp(`^Client ${client.clientId} has a new secret; the one it replaced no longer works\\.\\n`, 'u'));
    const secret = generatedBy(rotated.stdout);
    expect(await logInThrough(client)).toBe(401);
    expect(await logInThrough({ clientId: client.clientId, clientSecret: secret })).toBe(201);
  });

  it.each([
    ['an unknown client', 1, ['clients', 'rotate-secret', 'nobody-here', '--generate-secret'], '', 'No client "nobody-here" is registered.'],
    ['a new secret shorter than 8 characters', 1, ['clients', 'rotate-secret', 'admin-panel'], 'short', 'client_secret must be at least 8 characters long'],
    ['an --overlap that is not whole seconds', 2, ['clients', 'rotate-secret', 'admin-panel', '--overlap', '1.5', '--generate-secret'], '', "option '--overlap <seconds>' argument '1.5' is invalid"],
    ['a negative --overlap', 2, ['clients', 'rotate-secret', 'admin-panel', '--overlap', '-1', '--generate-secret'], '', 'must be a whole number of seconds from 0'],
  ])('clients rotate-secret refuses %s (exit %i), changing nothing', async (_, code, args, input, message) => {
    const before = await server.pool.query('SELECT * FROM client_credentials ORDER BY client_id');
    const result = await run(args, input);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at /u);
    expect((await server.pool.query('SELECT * FROM client_credentials ORDER BY client_id')).rows).toEqual(before.rows);
    expect(await logInThrough(server.client)).toBe(201);
  });

  it('prints no secret it was given, and each generated secret once, on stdout, of the command that made it', async () => {
    expect(generatedSecrets).toHaveLength(2);
    const everything = outputs.map((output) => output.stdout + output.stderr).join('\n');
    for (const secret of chosenSecrets) expect(everything).not.toContain(secret);
    for (const secret of generatedSecrets) {
      expect(outputs.filter((output) => output.stdout.includes(secret))).toHaveLength(1);
      expect(everything.split(secret)).toHaveLength(2);
    }
    const { rows } = await server.pool.query<{ text: string }>('SELECT data::text || metadata::text AS text FROM events');
    const log = rows.map((row) => row.text).join('\n');
    for (const secret of [...chosenSecrets, ...generatedSecrets]) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(server.deps.digester.digest(secret));
    }
  });
});
