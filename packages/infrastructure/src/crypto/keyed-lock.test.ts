import { describe, expect, it } from 'vitest';
import { createInProcessKeyedLock } from './keyed-lock.js';

/** Work that finishes when the test says, recording when it starts. */
const held = (log: string[], name: string) => {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const finished = new Promise<string>((resolve, reject) => {
    finish = () => resolve(name);
    fail = reject;
  });
  return {
    work: () => {
      log.push(`start ${name}`);
      return finished;
    },
    finish: () => finish(),
    fail: (error: Error) => fail(error),
  };
};
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('in-process keyed lock', () => {
  it('runs one key’s work one at a time in arrival order, other keys meanwhile, and passes a failed turn on', async () => {
    const lock = createInProcessKeyedLock();
    const log: string[] = [];
    const [a1, a2, a3, b1] = [held(log, 'a1'), held(log, 'a2'), held(log, 'a3'), held(log, 'b1')];
    const outcomes = Promise.allSettled([
      lock.exclusive('a', a1.work),
      lock.exclusive('a', a2.work),
      lock.exclusive('a', a3.work),
      lock.exclusive('b', b1.work),
    ]);
    await settle();
    expect(log).toEqual(['start a1', 'start b1']);
    a1.fail(new Error('a1 failed'));
    await settle();
    expect(log).toEqual(['start a1', 'start b1', 'start a2']);
    b1.finish();
    a2.finish();
    await settle();
    expect(log.at(-1)).toBe('start a3');
    a3.finish();
    expect((await outcomes).map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message))).toEqual([
      'a1 failed',
      'a2',
      'a3',
      'b1',
    ]);
  });

  it('takes a key again at once when its last work has finished', async () => {
    const lock = createInProcessKeyedLock();
    await lock.exclusive('k', async () => 1);
    const log: string[] = [];
    const next = held(log, 'again');
    const outcome = lock.exclusive('k', next.work);
    await settle();
    expect(log).toEqual(['start again']);
    next.finish();
    await expect(outcome).resolves.toBe('again');
  });
});
