import { availableParallelism } from 'node:os';
import type { PasswordHasher } from '@pos-auth/domain';

/**
 * A hash or verify refused because as many are already running and waiting as the bound allows:
 * the caller answers 503 with `Retry-After`, as for a database that cannot be reached.
 */
export class PasswordHasherBusyError extends Error {
  constructor(readonly bounds: HasherBounds) {
    super(`password hashing is saturated: ${bounds.concurrency} running and ${bounds.queueLimit} waiting`);
  }
  override get name(): string {
    return 'PasswordHasherBusyError';
  }
}

export interface HasherBounds {
  /** Operations (hash or verify) running at once. */
  readonly concurrency: number;
  /** Operations waiting for a turn; one more is refused with `PasswordHasherBusyError`. */
  readonly queueLimit: number;
}

/** libuv's thread pool size as libuv computes it from `UV_THREADPOOL_SIZE` (default 4, at most 1024). */
export const libuvThreadPoolSize = (env: Readonly<Record<string, string | undefined>> = process.env): number => {
  const parsed = Number.parseInt(env['UV_THREADPOOL_SIZE'] ?? '4', 10);
  if (Number.isNaN(parsed) || parsed <= 0) return parsed < 0 ? 1024 : 1;
  return Math.min(parsed, 1024);
};

/**
 * The default bounds: one operation per core, but never the whole libuv pool, whose threads also
 * serve file access, DNS look-ups and body decompression (so at most its size minus one); and a
 * queue 32 operations deep per running one, which at the measured ~10 ms per verify is a wait of
 * about a third of a second before a request is refused.
 */
export const defaultHasherBounds = (
  host: { readonly cores: number; readonly threadPoolSize: number } = { cores: availableParallelism(), threadPoolSize: libuvThreadPoolSize() },
): HasherBounds => {
  const concurrency = Math.max(1, Math.min(host.cores, host.threadPoolSize - 1));
  return { concurrency, queueLimit: concurrency * 32 };
};

/**
 * Wraps a `PasswordHasher` so that at most `concurrency` of its hashes and verifies run at once,
 * the next `queueLimit` wait their turn in order, and any beyond that are refused at once with
 * `PasswordHasherBusyError`. A flood of logins or sign-ups then costs a bounded amount of memory
 * and libuv threads, and a refused request is told so immediately instead of waiting behind it.
 * The domain does not know: it sees a `PasswordHasher`.
 *
 * @example
 * const hasher = createBoundedPasswordHasher(await createArgon2PasswordHasher(), { concurrency: 2, queueLimit: 64 });
 * await hasher.verify(phc, password); // waits its turn, or throws PasswordHasherBusyError
 */
export const createBoundedPasswordHasher = (inner: PasswordHasher, bounds: HasherBounds = defaultHasherBounds()): PasswordHasher => {
  const { concurrency, queueLimit } = bounds;
  if (!(Number.isInteger(concurrency) && concurrency >= 1) || !(Number.isInteger(queueLimit) && queueLimit >= 0)) {
    throw new TypeError(`createBoundedPasswordHasher: concurrency must be a whole number from 1 and queueLimit from 0, got ${concurrency} and ${queueLimit}`);
  }
  let running = 0;
  const waiting: Array<() => void> = [];

  const inTurn = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (running < concurrency) running += 1;
    else if (waiting.length < queueLimit) await new Promise<void>((resolve) => waiting.push(resolve));
    else throw new PasswordHasherBusyError(bounds);
    try {
      return await operation();
    } finally {
      // The finished operation's turn passes straight to the next in line, if any.
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };

  return {
    hash: (password) => inTurn(() => inner.hash(password)),
    verify: (hash, password) => inTurn(() => inner.verify(hash, password)),
    dummyHash: inner.dummyHash,
  };
};
