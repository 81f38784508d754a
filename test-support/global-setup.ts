import type { TestProject } from 'vitest/node';
import { startTestDatabase, type TestDatabaseKind } from '@pos-auth/infrastructure/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's test database; each test file makes its own schema in it (`createTestSchema`). */
    databaseUrl: string;
    /** 'pglite' takes one connection at a time: size pools with 1 and skip multi-connection tests. */
    databaseKind: TestDatabaseKind;
  }
}

/**
 * Resolves the test database once per run: TEST_DATABASE_URL, else Testcontainers, else an
 * in-memory PGlite served from this process (DESIGN.md, "Tests").
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startTestDatabase(process.env, (line) => console.log(`[global-setup] ${line}`));
  project.provide('databaseUrl', database.url);
  project.provide('databaseKind', database.kind);
  return () => database.stop();
}
