import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The workspace packages' `@pos-auth/source` export condition: tests run the TypeScript
  // sources, not the compiled dist/ (which the server processes that e2e tests spawn run). The
  // global setup loads outside this environment, through the `testing` entries, which point at
  // the sources without a condition (they are never compiled).
  ssr: { resolve: { conditions: ['@pos-auth/source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['./test-support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // .ci/run reads the counts from vitest's JSON report, alongside the usual terminal output.
    ...(process.env.VITEST_JSON_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.VITEST_JSON_REPORT } }
      : {}),
  },
});
