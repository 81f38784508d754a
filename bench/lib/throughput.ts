import { performance } from 'node:perf_hooks';

export interface ThroughputResult {
  /** Operations that completed and reported success. */
  readonly ok: number;
  /** Operations that completed and reported failure, or threw. */
  readonly failed: number;
  /** Wall time from the first start to the last completion. */
  readonly seconds: number;
  /** `ok / seconds`. */
  readonly opsPerSecond: number;
  /** Median time of one operation, in milliseconds. */
  readonly p50Ms: number;
}

export interface ThroughputOptions {
  /** Operations kept in flight. */
  readonly concurrency: number;
  /** No operation starts after this; those in flight finish. */
  readonly durationMs: number;
  /** Upper bound on started operations, whatever the duration (keeps every loop bounded). */
  readonly maxOps?: number;
}

const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * Runs `operation` with `concurrency` of them in flight for `durationMs`, then waits for the ones
 * in flight. Throughput counts only operations that resolved to `true`.
 *
 * @example
 * const { opsPerSecond } = await measureThroughput(() => verify(phc, password), { concurrency: 4, durationMs: 3000 });
 */
export const measureThroughput = async (
  operation: () => Promise<boolean>,
  options: ThroughputOptions,
): Promise<ThroughputResult> => {
  const maxOps = options.maxOps ?? 1_000_000;
  const durations: number[] = [];
  let started = 0;
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const lane = async () => {
    while (started < maxOps && performance.now() < deadline) {
      started += 1;
      const begin = performance.now();
      let success = false;
      try {
        success = await operation();
      } catch {
        success = false;
      }
      durations.push(performance.now() - begin);
      if (success) ok += 1;
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const seconds = (performance.now() - start) / 1000;
  return { ok, failed, seconds, opsPerSecond: ok / seconds, p50Ms: median(durations) };
};

/** libuv's thread pool size as this process (and a child with the same environment) gets it. */
export const libuvThreadPoolSize = (env: NodeJS.ProcessEnv = process.env): number => {
  const raw = env['UV_THREADPOOL_SIZE'];
  if (raw === undefined) return 4;
  // libuv's own rule (atoi, then 0 becomes 1 and the count is capped at 1024; unsigned, so a
  // negative number wraps to the cap).
  const parsed = Number.parseInt(raw, 10);
  const count = Number.isNaN(parsed) ? 0 : parsed;
  if (count === 0) return 1;
  return count < 0 ? 1024 : Math.min(count, 1024);
};
