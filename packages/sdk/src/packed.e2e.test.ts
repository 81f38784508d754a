import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The SDK as a registry would ship it: `pnpm pack` of the build the tests' global setup made,
 * installed with npm into a project outside the workspace, type-checked there with the
 * workspace's TypeScript (strict; `moduleResolution` NodeNext, then Bundler), and run there
 * against a real server. The project is `test/packed-consumer`: a browser-style use of the REST
 * and tRPC clients, and an express resource server with `@pos-auth/sdk/express`.
 */
const run = promisify(execFile);
const sdkDir = fileURLToPath(new URL('../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** A command's output; its output is the error's message when it fails. */
const exec = async (command: string, args: readonly string[], cwd: string): Promise<string> => {
  try {
    return (await run(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, { cause: error });
  }
};

/** The relative and bare specifiers a module imports or re-exports. */
const importsOf = (code: string) => [...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gmu)].map((match) => match[1]!);

describe('the packed SDK, installed outside the workspace', () => {
  let workDir: string;
  let consumer: string;
  let packed: string;
  let server: TestServer;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pos-auth-packed-sdk-'));
    await exec('pnpm', ['pack', '--pack-destination', workDir], sdkDir);
    const tarball = (await readdir(workDir)).find((file) => file.endsWith('.tgz'))!;
    packed = join(workDir, 'unpacked');
    await mkdir(packed);
    await exec('tar', ['-xzf', join(workDir, tarball), '-C', packed], workDir);

    consumer = join(workDir, 'consumer');
    await cp(join(sdkDir, 'test/packed-consumer'), consumer, { recursive: true });
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'packed-consumer', private: true, type: 'module' }));
    await exec('npm', ['install', join(workDir, tarball), 'express@5.3.0', '@types/express@^5.0.6', '--no-audit', '--no-fund', '--prefer-offline'], consumer);
    server = await startTestServer(inject('testDatabase'));
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('holds the build and a package.json without the workspace: no sources, no @pos-auth dependency, no source condition', async () => {
    const files = await readdir(join(packed, 'package'), { recursive: true });
    expect(files.filter((file) => !file.startsWith('dist/') && file !== 'dist').sort()).toEqual(['package.json']);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/express.js', 'dist/express.d.ts']));
    const manifest = JSON.parse(await readFile(join(packed, 'package/package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(manifest['dependencies']!).sort()).toEqual(['@trpc/client', 'jose', 'zod']);
    expect(Object.keys(manifest['peerDependencies']!).sort()).toEqual(['@trpc/server', '@types/express']);
    expect(manifest['exports']).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './express': { types: './dist/express.d.ts', default: './dist/express.js' },
      './package.json': './package.json',
    });
  });

  it('ships no server code: the entry points import only their dependencies, and the browser one no Node built-in', async () => {
    const dist = join(packed, 'package/dist');
    const external = async (file: string) =>
      [...new Set(importsOf(await readFile(join(dist, file), 'utf8')).filter((specifier) => !specifier.startsWith('./')))].sort();
    expect(await external('index.js')).toEqual(['@trpc/client', 'zod']);
    expect(await external('index.d.ts')).toEqual(['@trpc/client', '@trpc/server']);
    expect(await external('express.js')).toEqual(['jose']);
    expect(await external('express.d.ts')).toEqual(['express']);
    for (const file of (await readdir(dist)).filter((name) => name.endsWith('.js'))) {
      const code = await readFile(join(dist, file), 'utf8');
      expect(importsOf(code).filter((specifier) => /^(node:|@pos-auth\/|pg$|express$)/u.test(specifier))).toEqual([]);
      expect(code).not.toMatch(/\bprocess\.env\b|\brequire\(/u);
    }
  });

  it('type-checks a use of both entry points, strict, with NodeNext and with Bundler resolution', async () => {
    // NodeNext with every library's declarations checked too (skipLibCheck off), emitting the
    // JavaScript that the next test runs; then as a bundler resolves the package.
    await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
    await exec(process.execPath, [tsc, '-p', 'tsconfig.bundler.json', '--skipLibCheck'], consumer);
  });

  it('runs there against the server: REST and tRPC calls, and a resource server that introspects the token', async () => {
    const output = await exec(process.execPath, ['dist/main.js', server.url, server.client.clientId, server.client.clientSecret], consumer);
    expect(JSON.parse(output)).toEqual({
      registered: 'admin',
      role: 'admin',
      sessions: 1,
      listed: 1,
      userName: 'packed',
      refusal: '400 invalid_grant',
      ended: [],
      orders: { status: 200, body: { userId: expect.any(String), role: 'admin', verifiedBy: 'introspection' } },
      afterLogout: 401,
      refusals: ['inactive'],
    });
  });
});
