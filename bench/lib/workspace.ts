import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The workspace root (bench/ sits directly below it). */
export const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `require` as seen from one workspace package, for dependencies the root does not declare
 * (express from packages/http, the argon2 libraries from packages/infrastructure): the benchmark
 * then loads exactly the version that package runs with.
 */
export const requireFrom = (packageDir: 'http' | 'infrastructure'): NodeJS.Require =>
  createRequire(new URL(`../../packages/${packageDir}/package.json`, import.meta.url));

/** The version of a dependency as that package resolves it. */
export const versionOf = (packageDir: 'http' | 'infrastructure', name: string): string => {
  const manifest = requireFrom(packageDir)(`${name}/package.json`) as { version?: unknown };
  return String(manifest.version);
};

/** The version of one of the root's own devDependencies (autocannon, pg). */
export const rootVersionOf = (name: string): string => {
  const manifest = createRequire(new URL('../../package.json', import.meta.url))(`${name}/package.json`) as { version?: unknown };
  return String(manifest.version);
};
