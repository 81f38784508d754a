/**
 * The ceiling for the login endpoint: argon2id verifies per second with `@node-rs/argon2` (the
 * service's hasher) at the given parameters, with `concurrency` verifies in flight. Run as its own
 * process by bench/run.ts while nothing else is under load; prints one JSON line with the result.
 *
 * Usage: node --import tsx bench/argon2-ceiling.ts '<json: {params, concurrency, durationMs}>'
 */
import { loadNodeRsArgon2, type Argon2idParams } from './lib/argon2-libs.js';
import { measureThroughput } from './lib/throughput.js';

interface Input {
  readonly params: Argon2idParams;
  readonly concurrency: number;
  readonly durationMs: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const lib = loadNodeRsArgon2(input.params);
const password = 'bench-password-0-xyz';
const phc = await lib.hash(password);
// One round to load the code paths and touch the memory before the clock runs.
await Promise.all(Array.from({ length: input.concurrency }, () => lib.verify(phc, password)));
const result = await measureThroughput(() => lib.verify(phc, password), {
  concurrency: input.concurrency,
  durationMs: input.durationMs,
});
console.log(JSON.stringify({ phcPrefix: phc.slice(0, phc.lastIndexOf('$', phc.lastIndexOf('$') - 1) + 1), ...result }));
