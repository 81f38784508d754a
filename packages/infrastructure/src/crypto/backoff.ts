import { setTimeout as sleep } from 'node:timers/promises';
import type { ConflictBackoff } from '@pos-auth/domain';

export interface JitteredBackoffOptions {
  /** The first retry waits up to this long; each further one up to twice as long. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const defaultBackoffOptions: JitteredBackoffOptions = { baseMs: 2, maxMs: 100 };

/**
 * "Full jitter" exponential back-off: the n-th retry waits a uniformly random time up to
 * min(max, base·2ⁿ⁻¹), so that writers who lost a race do not all come back at the same instant.
 *
 * @example
 * const backoff = createJitteredBackoff();
 * await backoff.wait(1); // 0-2 ms
 */
export const createJitteredBackoff = (options: JitteredBackoffOptions = defaultBackoffOptions): ConflictBackoff => ({
  wait: (attempt) => sleep(Math.random() * Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1))),
});
