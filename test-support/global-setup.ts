import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
// Not `@pos-auth/infrastructure/testing`: this loads before the build, without the source
// condition, and that entry's fixtures import the workspace packages (whose dist/ may not exist yet).
import { startTestDatabase, type TestDatabaseRef } from '@pos-auth/infrastructure/testing/database';
import { ensureChromium } from './browser.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's test database; each test file makes its own schema in it (`createTestSchema`). */
    testDatabase: TestDatabaseRef;
  }
}

const workspaceRoot = new URL('../', import.meta.url);

/**
 * The tests run the sources, but the server processes that e2e tests spawn run the compiled
 * dist/, as production does: build it, so it is never stale (a fast no-op when up to date).
 */
const build = async () => {
  try {
    await promisify(execFile)('pnpm', ['run', 'build'], { cwd: workspaceRoot });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`pnpm build failed:\n${stdout}${stderr}`, { cause: error });
  }
};

/**
 * Builds, then resolves the test database once per run: TEST_DATABASE_URL, else Testcontainers,
 * else an embedded PostgreSQL in a temporary directory (DESIGN.md, "Tests"); and makes sure
 * Debian's Chromium is there for the browser tests, installing it when missing (test-support/browser.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => console.log(`[global-setup] ${line}`);
  await build();
  const chromium = await ensureChromium(log);
  if (chromium.skipReason !== null) log(`the browser tests are skipped: ${chromium.skipReason}`);
  project.provide('chromium', chromium);
  const database = await startTestDatabase(process.env, log);
  project.provide('testDatabase', { url: database.url });
  return () => database.stop();
}
