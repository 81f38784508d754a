import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { verifyEventLog, type LogDamage, type StreamHead } from '@pos-auth/infrastructure';
import { withDatabase } from '../database.js';
import { progressBar } from '../progress.js';

/** `audit verify` exits with this when the log is damaged (1 means the command itself failed). */
export const damagedLogExitCode = 3;

const describe = (damage: LogDamage): string => {
  const at = `stream ${damage.streamId}, position ${damage.streamPosition}${damage.globalPosition === null ? '' : ` (global position ${damage.globalPosition})`}`;
  switch (damage.kind) {
    case 'altered':
      return `altered event at ${at}, event id ${damage.eventId}: its hash does not match its content and its predecessor`;
    case 'reordered':
      return `reordered event at ${at}, event id ${damage.eventId}: it stands out of the order it was appended in`;
    case 'removed':
      return `removed event${damage.missing > 1 ? `s (${damage.missing})` : ''} at ${at}: the stream jumps to the next one`;
    case 'truncated':
      return `truncated stream ${damage.streamId}: it records ${damage.version} events, the log holds ${damage.streamPosition}`;
    case 'head_mismatch':
      return `stream head of ${damage.streamId} does not match its last event at position ${damage.streamPosition}`;
    case 'head_rewritten':
      return `saved head no longer matches at ${at}: the chain was rewritten or cut since the heads were saved`;
    default:
      return JSON.stringify(damage satisfies never);
  }
};

const readHeads = async (file: string): Promise<StreamHead[]> => {
  const heads: StreamHead[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line.trim() !== '') heads.push(JSON.parse(line) as StreamHead);
  }
  return heads;
};

const writeHeads = async (file: string, heads: readonly StreamHead[]) => {
  const out = createWriteStream(file, { flags: 'wx' });
  for (const head of heads) if (!out.write(`${JSON.stringify(head)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
};

const verify = (options: { readonly saveHeads?: string; readonly checkHeads?: string }) =>
  withDatabase(async ({ pool }) => {
    const knownHeads = options.checkHeads === undefined ? undefined : await readHeads(options.checkHeads);
    const progress = progressBar();
    const report = await verifyEventLog(pool, {
      onProgress: (done, total) => progress.update('events checked', done, total),
      ...(knownHeads === undefined ? {} : { knownHeads }),
    }).finally(() => progress.stop());
    if (options.saveHeads !== undefined) await writeHeads(options.saveHeads, report.heads);
    if (report.ok) {
      console.log(`The log is intact: ${report.events} events in ${report.streams} streams, every hash chain and stream head checked.`);
      if (knownHeads !== undefined) console.log(`Every one of the ${knownHeads.length} saved heads is still in place.`);
      console.log(`Heads digest: ${report.headsDigest}`);
      return;
    }
    console.log(`The log was altered behind the service's back: ${report.damageCount} damaged place(s). The first:`);
    console.log(`  ${describe(report.damages[0]!)}`);
    for (const damage of report.damages.slice(1, 10)) console.log(`  then ${describe(damage)}`);
    process.exitCode = damagedLogExitCode;
  });

/** `audit verify`. */
export const registerAuditCommands = (program: Command): void => {
  const audit = program.command('audit').description('check that nobody rewrote the event log');

  audit
    .command('verify')
    .description('walk the whole log and name the first event altered, removed or reordered behind the service\'s back')
    .option('--save-heads <file>', 'write every stream head to a new file, to keep somewhere the database cannot reach')
    .option('--check-heads <file>', 'also check that the heads saved in this file are still in place')
    .addHelpText(
      'after',
      `\nExit codes: 0 intact, ${damagedLogExitCode} damaged, 1 the check itself failed.\n` +
        'A hash chain whose key is in the same database does not stop a superuser who rewrites the whole chain;\n' +
        'heads saved elsewhere do: the rewritten chain no longer ends where they say.',
    )
    .action(verify);
};
