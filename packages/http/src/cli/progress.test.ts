import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBar } from './progress.js';

/** A stream that says it is a terminal, and keeps what is written to it. */
const terminal = (isTTY: boolean) => {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, written: () => written };
};

describe('progressBar', () => {
  it('draws a bar with the label and the count on a terminal, a new bar for a new label', () => {
    const { stream, written } = terminal(true);
    const progress = progressBar(stream);
    progress.update('events checked', 50, 200);
    progress.update('events checked', 200, 200);
    progress.update('tables swapped', 1, 1);
    progress.stop();
    expect(written()).toMatch(/\d+% \| \d+\/200 events checked/);
    expect(written()).toContain('1/1 tables swapped');
  });

  it('counts work of unknown total without a bar or a percentage', () => {
    const { stream, written } = terminal(true);
    const progress = progressBar(stream);
    progress.count('users read', 200);
    progress.count('users read', 350);
    progress.stop();
    expect(written()).toContain('350 users read');
    expect(written()).not.toMatch(/%|\/350/);
  });

  it('writes nothing when the stream is not a terminal (a pipe, a log file)', () => {
    const { stream, written } = terminal(false);
    const progress = progressBar(stream);
    progress.update('events checked', 50, 200);
    progress.count('users read', 200);
    progress.stop();
    expect(written()).toBe('');
  });
});
