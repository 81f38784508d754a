import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request } from './http.js';
import { schemaDatabaseUrl, runCli } from './process.js';

const password = 'correct horse battery staple';

describe('the pos-auth command line', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let dir: string;

  /** As a superuser who goes around the service: the append-only triggers do not fire. */
  const behindTheBack = async (sql: string, params: unknown[] = []) => {
    const client = await server.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(sql, params);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    env = { DATABASE_URL: schemaDatabaseUrl(inject('testDatabase').url, server.schema) };
    dir = await mkdtemp(path.join(tmpdir(), 'pos-auth-cli-'));
    await request(`${server.url}/users`, json({ user_name: 'owner', password }));
    for (let index = 0; index < 3; index += 1) {
      await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'owner', password }, { authorization: basicAuth(server.client) }));
    }
  });
  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('describes every command and group with --help, and refuses an unknown one with exit code 2', async () => {
    const top = await runCli(['--help'], env);
    expect(top.code).toBe(0);
    const groups = { clients: ['add', 'list', 'rotate-secret'], users: ['create-admin', 'disable', 'list'], keys: ['rotate'], projections: ['rebuild'], audit: ['events', 'verify'] };
    const described = (help: string, command: string) => new RegExp(`^  ${command}\\b.*\\S\\s{2,}\\S`, 'mu').test(help);
    for (const command of ['start', 'migrate', ...Object.keys(groups)]) expect(described(top.stdout, command), command).toBe(true);
    // The old names still run, without being offered.
    expect(top.stdout).not.toMatch(/register-client|rebuild-projections/u);
    const commands = [['start'], ['migrate'], ['register-client'], ['rebuild-projections'], ...Object.entries(groups).flatMap(([group, subcommands]) => [[group], ...subcommands.map((sub) => [group, sub])])];
    await Promise.all(
      commands.map(async (args) => {
        const help = await runCli([...args, '--help'], env);
        expect(help.code, args.join(' ')).toBe(0);
        expect(help.stdout, args.join(' ')).toMatch(new RegExp(`^Usage: pos-auth ${args.join(' ')} .*\\n\\n(?!Arguments:|Options:|Commands:)\\S`, 'u'));
        const [group] = args;
        for (const sub of groups[group as keyof typeof groups] ?? []) if (args.length === 1) expect(described(help.stdout, sub), `${group} ${sub}`).toBe(true);
      }),
    );
    const unknown = await runCli(['rebuild-everything'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'rebuild-everything'");
   }, 60_000);

  it('says so in one line, exit 1, when the database cannot be reached or the configuration is wrong', async () => {
    const unreachable = await runCli(['users', 'list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(unreachable).toEqual({ code: 1, stdout: '', stderr: 'pos-auth: the database cannot be reached (connect ECONNREFUSED 127.0.0.1:1)\n' });
    const misconfigured = await runCli(['clients', 'list'], { ...env, ACCESS_TOKEN_TTL: 'soon' });
    expect(misconfigured).toMatchObject({ code: 1, stdout: '' });
    expect(misconfigured.stderr).toMatch(/^pos-auth: Invalid configuration:\n {2}ACCESS_TOKEN_TTL: /u);
    expect(misconfigured.stderr).not.toMatch(/\n\s+at /u);
  });

  it('migrates, registers a client with the secret from standard input, and rebuilds by either name', async () => {
    expect(await runCli(['migrate'], env)).toMatchObject({ code: 0, stdout: 'The database is up to date.\n' });
    const clientId = `till-${randomUUID().slice(0, 8)}`;
    expect(await runCli(['register-client', clientId], env, 'a secret from stdin\n')).toMatchObject({ code: 0, stdout: `Registered client ${clientId}.\n` });
    const { rows } = await server.pool.query('SELECT 1 FROM client_credentials WHERE client_id = $1', [clientId]);
    expect(rows).toHaveLength(1);
    for (const args of [['projections', 'rebuild'], ['rebuild-projections']]) {
      const rebuilt = await runCli(args, env);
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      expect(rebuilt.stdout).toMatch(/^Projections rebuilt from the event log/);
    }
  });

  it('audit verify: exit 0 on an intact log; 3 naming the first damage; saved heads catch a rewritten chain', async () => {
    const heads = path.join(dir, 'heads.ndjson');
    const intact = await runCli(['audit', 'verify', '--save-heads', heads], env);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^The log is intact: \d+ events in \d+ streams/);
    expect(intact.stdout).toMatch(/Heads digest: [0-9a-f]{64}/);
    const saved = (await readFile(heads, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { streamId: string });
    expect(saved.length).toBeGreaterThan(3);

    // An edit: named by its stream and position.
    const { rows } = await server.pool.query<{ global_position: string; stream_id: string }>(
      "SELECT global_position::text AS global_position, stream_id FROM events WHERE type = 'TokenIssued' ORDER BY global_position LIMIT 1",
    );
    const edited = rows[0]!;
    await behindTheBack(`UPDATE events SET data = data || '{"scope": "admin"}' WHERE global_position = $1`, [edited.global_position]);
    const damaged = await runCli(['audit', 'verify'], env);
    expect(damaged.code).toBe(3);
    expect(damaged.stdout).toContain(`altered event at stream ${edited.stream_id}, position 1 (global position ${edited.global_position})`);

    // The chain recomputed after the edit: consistent again, but not where the saved heads say.
    await behindTheBack(`UPDATE events SET hash = pos_auth_event_hash(NULL, event_id, stream_id, stream_position, type, data, metadata, recorded_at) WHERE global_position = $1`, [
      edited.global_position,
    ]);
    await behindTheBack('UPDATE streams s SET last_hash = e.hash FROM events e WHERE e.stream_id = s.stream_id AND e.stream_position = s.version AND s.stream_id = $1', [
      edited.stream_id,
    ]);
    expect((await runCli(['audit', 'verify'], env)).code).toBe(0);
    const checked = await runCli(['audit', 'verify', '--check-heads', heads], env);
    expect(checked.code).toBe(3);
    expect(checked.stdout).toContain(`saved head no longer matches at stream ${edited.stream_id}, position 1`);
  });
});
