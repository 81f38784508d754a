import type { PasswordHasher } from '@pos-auth/domain';
import { describe, expect, it } from 'vitest';
import { createArgon2PasswordHasher } from './argon2-password-hasher.js';
import { PasswordHasherBusyError, createBoundedPasswordHasher, defaultHasherBounds, libuvThreadPoolSize } from './bounded-password-hasher.js';

/** A hasher whose operations finish only when the test says so, recording what is running. */
const heldHasher = () => {
  const running: Array<{ password: string; finish: (ok: boolean) => void; fail: (error: Error) => void }> = [];
  const started: string[] = [];
  const hasher: PasswordHasher = {
    hash: (password) => new Promise<string>((resolve, reject) => {
      started.push(password);
      running.push({ password, finish: () => resolve(`hash of ${password}`), fail: reject });
    }),
    verify: (_hash, password) => new Promise<boolean>((resolve, reject) => {
      started.push(password);
      running.push({ password, finish: resolve, fail: reject });
    }),
    dummyHash: 'dummy',
  };
  /** Finishes the oldest running operation, then lets the promise callbacks run. */
  const finishOldest = async (outcome: boolean | Error = true) => {
    const operation = running.shift()!;
    if (outcome instanceof Error) operation.fail(outcome);
    else operation.finish(outcome);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { hasher, running, started, finishOldest };
};

describe('bounded password hasher', () => {
  it('runs at most `concurrency` at once, the next ones in order, and refuses beyond the queue', async () => {
    const inner = heldHasher();
    const bounded = createBoundedPasswordHasher(inner.hasher, { concurrency: 2, queueLimit: 3 });
    const outcomes = Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((password) => bounded.verify('phc', password)));
    await expect(bounded.hash('f')).rejects.toBeInstanceOf(PasswordHasherBusyError);
    await expect(bounded.verify('phc', 'g')).rejects.toThrow('2 running and 3 waiting');
    expect(inner.started).toEqual(['a', 'b']);

    await inner.finishOldest(true);
    expect(inner.started).toEqual(['a', 'b', 'c']);
    // A failure passes its turn on as a success does.
    await inner.finishOldest(new Error('inner failure'));
    expect(inner.started).toEqual(['a', 'b', 'c', 'd']);
    expect(inner.running).toHaveLength(2);
    // Room in the queue again.
    const late = bounded.hash('h');
    while (inner.running.length > 0) await inner.finishOldest(false);
    await expect(late).resolves.toBe('hash of h');
    expect(inner.started).toEqual(['a', 'b', 'c', 'd', 'e', 'h']);
    await expect(outcomes).resolves.toEqual([
      { status: 'fulfilled', value: true },
      { status: 'rejected', reason: new Error('inner failure') },
      { status: 'fulfilled', value: false },
      { status: 'fulfilled', value: false },
      { status: 'fulfilled', value: false },
    ]);
  });

  it('bounds real argon2id: 12 verifies at once never have more than 2 in flight, and all answer', async () => {
    const argon2 = await createArgon2PasswordHasher();
    const phc = await argon2.hash('correct horse battery staple');
    let inFlight = 0;
    let most = 0;
    const counted: PasswordHasher = {
      ...argon2,
      verify: async (hash, password) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          return await argon2.verify(hash, password);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const bounded = createBoundedPasswordHasher(counted, { concurrency: 2, queueLimit: 10 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => bounded.verify(phc, i % 2 === 0 ? 'correct horse battery staple' : 'wrong')));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i % 2 === 0));
    expect(most).toBe(2);
  });

  it.each([
    ['2 cores, libuv pool of 4 (this machine)', { cores: 2, threadPoolSize: 4 }, { concurrency: 2, queueLimit: 64 }],
    ['8 cores, libuv pool of 4: one thread left for the rest', { cores: 8, threadPoolSize: 4 }, { concurrency: 3, queueLimit: 96 }],
    ['1 core, libuv pool of 1', { cores: 1, threadPoolSize: 1 }, { concurrency: 1, queueLimit: 32 }],
  ])('default bounds, %s', (_, host, bounds) => {
    expect(defaultHasherBounds(host)).toEqual(bounds);
  });

  it.each([
    [undefined, 4],
    ['16', 16],
    ['0', 1],
    ['abc', 1],
    ['-1', 1024],
    ['5000', 1024],
  ])('reads UV_THREADPOOL_SIZE=%s as libuv does: %i threads', (value, threads) => {
    expect(libuvThreadPoolSize({ UV_THREADPOOL_SIZE: value })).toBe(threads);
  });

  it('refuses bounds that cannot work', () => {
    const { hasher } = heldHasher();
    expect(() => createBoundedPasswordHasher(hasher, { concurrency: 0, queueLimit: 1 })).toThrow(TypeError);
    expect(() => createBoundedPasswordHasher(hasher, { concurrency: 1, queueLimit: -1 })).toThrow(TypeError);
  });
});
