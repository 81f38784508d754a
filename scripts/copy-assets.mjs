// Completes `tsc -b`, which compiles packages/*/src/**/*.ts into packages/*/dist but copies
// nothing else: every other file under src (the SQL migrations, read at run time next to the
// module that reads them) is mirrored into dist, and one that left src leaves dist too.
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));
const compiled = /(\.d\.ts|\.js|\.map|\.tsbuildinfo)$/u;

/** Files below `dir`, relative to it; none when it does not exist. */
const filesBelow = async (dir) => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)));
};

const sameContent = async (a, b) => {
  const [left, right] = await Promise.all([readFile(a), readFile(b).catch(() => null)]);
  return right !== null && left.equals(right);
};

for (const name of await readdir(packagesDir)) {
  const src = join(packagesDir, name, 'src');
  const dist = join(packagesDir, name, 'dist');
  const assets = (await filesBelow(src)).filter((file) => !file.endsWith('.ts'));
  for (const file of assets) {
    if (await sameContent(join(src, file), join(dist, file))) continue;
    await mkdir(join(dist, file, '..'), { recursive: true });
    await copyFile(join(src, file), join(dist, file));
  }
  const kept = new Set(assets);
  for (const file of await filesBelow(dist)) {
    if (!compiled.test(file) && !kept.has(file)) await rm(join(dist, file));
  }
}
