#!/usr/bin/env node
// Runs the compiled CLI: `pnpm build` writes dist/ (`pnpm start` and the tests build first).
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && error.url === new URL('../dist/cli.js', import.meta.url).href) {
    console.error('pos-auth: not built yet: run pnpm build (pnpm start builds first)');
    process.exit(1);
  }
  throw error;
}
