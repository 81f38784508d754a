/**
 * `pnpm bench:argon2`: `argon2` (node-argon2) against `@node-rs/argon2` at identical argon2id
 * parameters (the service's: m=19456 KiB, t=2, p=1), hash and verify, one at a time and 4 in
 * flight. The two libraries alternate in short slices, round after round, so noise from a shared
 * machine falls on both; the figure to quote is the ratio. See bench/README.md.
 */
import os from 'node:os';
import { defaultArgon2Params } from '@pos-auth/infrastructure';
import { expectedPhcPrefix, loadNodeArgon2, loadNodeRsArgon2, type Argon2Library } from './lib/argon2-libs.js';
import { libuvThreadPoolSize, measureThroughput, type ThroughputResult } from './lib/throughput.js';
import { fixed, table } from './lib/report.js';
import { intFromEnv } from './lib/env.js';

const rounds = intFromEnv('BENCH_ARGON2_ROUNDS', 3, 1, 20);
const sliceMs = intFromEnv('BENCH_ARGON2_SLICE_MS', 1000, 200, 10_000);
const inFlight = 4;
const params = defaultArgon2Params;
const password = 'correct horse battery staple';

const nodeRs = loadNodeRsArgon2(params);
const nodeArgon2 = loadNodeArgon2(params);
const libraries = [nodeRs, nodeArgon2] as const;

interface Mode {
  readonly name: string;
  readonly concurrency: number;
  readonly operation: (lib: Argon2Library, phc: string) => () => Promise<boolean>;
}

const modes: readonly Mode[] = [
  { name: 'hash, 1 at a time', concurrency: 1, operation: (lib) => async () => (await lib.hash(password)).length > 0 },
  { name: `hash, ${inFlight} in flight`, concurrency: inFlight, operation: (lib) => async () => (await lib.hash(password)).length > 0 },
  { name: 'verify, 1 at a time', concurrency: 1, operation: (lib, phc) => () => lib.verify(phc, password) },
  { name: `verify, ${inFlight} in flight`, concurrency: inFlight, operation: (lib, phc) => () => lib.verify(phc, password) },
];

/** Both libraries must read each other's hashes: the proof that the parameters really are identical. */
const crossCheck = async (): Promise<{ hashes: Map<Argon2Library, string>; problems: string[] }> => {
  const problems: string[] = [];
  const hashes = new Map<Argon2Library, string>();
  const prefix = expectedPhcPrefix(params);
  for (const lib of libraries) {
    const phc = await lib.hash(password);
    hashes.set(lib, phc);
    if (!phc.startsWith(prefix)) problems.push(`${lib.name} produced ${phc.slice(0, prefix.length)}..., expected ${prefix}...`);
  }
  for (const [producer, phc] of hashes) {
    for (const checker of libraries) {
      if (!(await checker.verify(phc, password))) problems.push(`${checker.name} rejects the right password for a hash by ${producer.name}`);
      if (await checker.verify(phc, `${password}!`)) problems.push(`${checker.name} accepts a wrong password for a hash by ${producer.name}`);
    }
  }
  return { hashes, problems };
};

const main = async (): Promise<number> => {
  const cpus = os.cpus();
  console.log('argon2 libraries at identical argon2id parameters\n');
  console.log(`machine     ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${os.platform()} ${os.release()}`);
  console.log(`node        ${process.version}; libuv thread pool ${libuvThreadPoolSize(process.env)}`);
  console.log(`libraries   ${libraries.map((lib) => `${lib.name} ${lib.version}`).join(', ')}`);
  console.log(`parameters  argon2id m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}, 32-byte output, 16-byte salt, v=0x13`);
  console.log(
    `schedule    ${rounds} rounds; in each, per mode, one ${sliceMs} ms slice per library, the order alternating by round ` +
      `(${fixed((rounds * sliceMs) / 1000, 1)} s per library and mode)\n`,
  );

  const { hashes, problems } = await crossCheck();
  console.log(problems.length === 0 ? 'cross-check: each library verifies the other\'s hashes (and rejects a wrong password): ok\n' : 'cross-check: FAILED\n');
  if (problems.length > 0) {
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }

  // Warm-up: load both native modules' code paths and the allocator before any clock runs.
  for (const lib of libraries) await Promise.all(Array.from({ length: inFlight }, () => lib.verify(hashes.get(lib) ?? '', password)));

  const results = new Map<string, ThroughputResult[]>();
  const key = (mode: Mode, lib: Argon2Library) => `${mode.name}|${lib.name}`;
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? [...libraries] : [...libraries].reverse();
    process.stdout.write(`round ${round + 1}/${rounds}: ${order.map((lib) => lib.name).join(' then ')}... `);
    for (const mode of modes) {
      for (const lib of order) {
        const result = await measureThroughput(mode.operation(lib, hashes.get(lib) ?? ''), {
          concurrency: mode.concurrency,
          durationMs: sliceMs,
          maxOps: 100_000,
        });
        if (result.failed > 0) problems.push(`${lib.name}, ${mode.name}: ${result.failed} operations failed`);
        results.set(key(mode, lib), [...(results.get(key(mode, lib)) ?? []), result]);
      }
    }
    console.log('done');
  }

  /** Throughput over all rounds: total successes over total time. */
  const overall = (runs: readonly ThroughputResult[]) =>
    runs.reduce((sum, run) => sum + run.ok, 0) / runs.reduce((sum, run) => sum + run.seconds, 0);
  const medianMs = (runs: readonly ThroughputResult[]) => {
    const sorted = runs.map((run) => run.p50Ms).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };

  const rows = modes.map((mode) => {
    const fast = results.get(key(mode, nodeRs)) ?? [];
    const reference = results.get(key(mode, nodeArgon2)) ?? [];
    const perRound = fast.map((run, i) => run.opsPerSecond / (reference[i]?.opsPerSecond ?? Number.NaN));
    return [
      mode.name,
      fixed(overall(fast), 1),
      fixed(medianMs(fast), 1),
      fixed(overall(reference), 1),
      fixed(medianMs(reference), 1),
      fixed(overall(fast) / overall(reference), 2),
      `${fixed(Math.min(...perRound), 2)}-${fixed(Math.max(...perRound), 2)}`,
    ];
  });
  console.log('');
  console.log(
    table(
      ['mode', `${nodeRs.name} ops/s`, 'ms/op', `${nodeArgon2.name} ops/s`, 'ms/op', 'ratio node-rs/argon2', 'per-round range'],
      rows,
    ),
  );
  console.log('\nms/op is the median time of one operation (with 4 in flight on fewer cores it includes waiting for a core).');

  if (problems.length > 0) {
    console.error('\nFAILED:');
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }
  return 0;
};

process.exitCode = await main().catch((error: unknown) => {
  console.error('bench:argon2 failed:', error);
  return 1;
});
