import cliProgress from 'cli-progress';

/** What a projection rebuild's phases count (`RebuildPhase`), for a bar each. */
export const rebuildProgressLabels = { replay: 'events replayed', write: 'rows written', 'catch-up': 'events caught up', swap: 'tables swapped' } as const;

export interface Progress {
  /** Shows `done` of `total`, under `label`. */
  update(label: string, done: number, total: number): void;
  /** Shows `done` under `label`, for work whose total is not known beforehand (pages read until the last). */
  count(label: string, done: number): void;
  stop(): void;
}

/**
 * A progress bar on standard error when it is a terminal (nothing otherwise, so that logs and
 * pipes stay clean), redrawn at most ten times a second. A new label starts a new bar.
 *
 * @example
 * const progress = progressBar();
 * await verifyEventLog(pool, { onProgress: (done, total) => progress.update('events checked', done, total) });
 * progress.stop();
 */
export const progressBar = (stream: NodeJS.WriteStream = process.stderr): Progress => {
  if (!stream.isTTY) return { update: () => undefined, count: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const show = (key: string, format: string, done: number, total: number) => {
    if (key !== current || bar === null) {
      stop();
      current = key;
      bar = new cliProgress.SingleBar({ stream, fps: 10, hideCursor: true, format }, cliProgress.Presets.shades_classic);
      bar.start(total, done);
      return;
    }
    bar.setTotal(total);
    bar.update(done);
  };
  return {
    update: (label, done, total) => show(label, `{bar} {percentage}% | {value}/{total} ${label} | {duration_formatted}`, done, total),
    // No bar and no percentage: there is no total to measure them against.
    count: (label, done) => show(`count:${label}`, `{value} ${label} | {duration_formatted}`, done, done),
    stop,
  };
};
