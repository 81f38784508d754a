import { defineConfig } from 'vitest/config';

// Without TEST_DATABASE_URL the tests may run on the embedded PGlite, which serves one
// connection at a time: test files must then run one after the other.
const serverDatabase = Boolean(process.env.TEST_DATABASE_URL);

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['./test-support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: serverDatabase,
    // .ci/run reads the counts from vitest's JSON report, alongside the usual terminal output.
    ...(process.env.VITEST_JSON_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VITEST_JSON_REPORT } }
      : {}),
  },
});
