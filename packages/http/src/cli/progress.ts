import cliProgress from 'cli-progress';

export interface Progress {
  /** Shows `done` of `total`, under `label`. */
  update(label: string, done: number, total: number): void;
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
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update(label, done, total) {
      if (label !== current || bar === null) {
        stop();
        current = label;
        bar = new cliProgress.SingleBar(
          { stream, fps: 10, hideCursor: true, format: `{bar} {percentage}% | {value}/{total} ${label} | {duration_formatted}` },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
        return;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop,
  };
};
