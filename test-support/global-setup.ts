import type { TestProject } from 'vitest/node';
import { startTestDatabase, type TestDatabaseRef } from '@pos-auth/infrastructure/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's test database; each test file makes its own schema in it (`createTestSchema`). */
    testDatabase: TestDatabaseRef;
  }
}

/**
 * Resolves the test database once per run: TEST_DATABASE_URL, else Testcontainers, else an
 * embedded PostgreSQL in a temporary directory (DESIGN.md, "Tests").
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startTestDatabase(process.env, (line) => console.log(`[global-setup] ${line}`));
  project.provide('testDatabase', { url: database.url });
  return () => database.stop();
}
