import type { KeyedLock } from '@pos-auth/domain';

/**
 * A `KeyedLock` in this process's memory: the work for one key runs one piece at a time, in the
 * order it came; different keys do not wait for each other. A key is forgotten as soon as nothing
 * holds or awaits it, so the map holds only the keys in use. It does not reach other instances:
 * each runs its own turns (the use cases stay correct across instances through expected versions).
 *
 * @example
 * const lock = createInProcessKeyedLock();
 * await lock.exclusive('login-attempts-ab12', () => attemptLogin());
 */
export const createInProcessKeyedLock = (): KeyedLock => {
  /** Per key: settles when the last work queued for it has finished. */
  const tails = new Map<string, Promise<void>>();
  return {
    exclusive: async (key, work) => {
      const previous = tails.get(key);
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      const tail = previous === undefined ? done : previous.then(() => done);
      tails.set(key, tail);
      try {
        await previous;
        return await work();
      } finally {
        finish();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
};
