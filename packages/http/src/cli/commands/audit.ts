import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { ValidationError, readAllAuditEvents, type AuditEvent } from '@pos-auth/domain';
import { createHmacPseudonymizer, createPosAuthPersistence, verifyEventLog, type LogDamage, type StreamHead } from '@pos-auth/infrastructure';
import { z } from 'zod';
import { auditEventResource, auditFields, toAuditQuery } from '../../audit-input.js';
import { withDatabase } from '../database.js';
import { progressBar } from '../progress.js';

/** `audit verify` exits with this when the log is damaged (1 means the command itself failed). */
export const damagedLogExitCode = 3;

interface EventsOptions {
  readonly user?: string;
  readonly userName?: string;
  readonly session?: string;
  readonly client?: string;
  readonly type: string[];
  readonly ip?: string;
  readonly request?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: string;
  readonly format: 'table' | 'json' | 'ndjson';
}

const cliQuery = z.strictObject({
  userId: auditFields.userId.optional(),
  userName: auditFields.userName.optional(),
  sessionId: auditFields.sessionId.optional(),
  clientId: auditFields.clientId.optional(),
  types: auditFields.types.optional(),
  ip: auditFields.ip.optional(),
  requestId: auditFields.requestId.optional(),
  from: auditFields.from.optional(),
  to: auditFields.to.optional(),
  limit: z.string().regex(/^[1-9]\d{0,9}$/u, 'must be a whole number from 1').transform(Number).optional(),
});
const optionNames: Record<string, string> = {
  userId: '--user',
  userName: '--user-name',
  sessionId: '--session',
  clientId: '--client',
  types: '--type',
  ip: '--ip',
  requestId: '--request',
  from: '--since',
  to: '--until',
  limit: '--limit',
};

const write = async (line: string) => {
  if (!process.stdout.write(line)) await once(process.stdout, 'drain');
};

const cell = (value: unknown, width: number) => {
  const text = value === undefined || value === null ? '' : String(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
};
const columns = [
  { title: 'position', width: 10, of: (event: AuditEvent) => event.position },
  { title: 'recorded_at', width: 24, of: (event: AuditEvent) => event.recordedAt },
  { title: 'type', width: 20, of: (event: AuditEvent) => event.type },
  { title: 'stream_id', width: 44, of: (event: AuditEvent) => event.streamId },
  { title: 'user_id', width: 36, of: (event: AuditEvent) => event.data['userId'] },
  { title: 'client_id', width: 16, of: (event: AuditEvent) => event.metadata.clientId },
  { title: 'ip', width: 22, of: (event: AuditEvent) => event.metadata.ip },
];
const tableLine = (cells: readonly unknown[]) => `${cells.map((value, index) => cell(value, columns[index]!.width)).join(' ').trimEnd()}\n`;

const events = (options: EventsOptions) =>
  withDatabase(async ({ pool }) => {
    const parsed = cliQuery.safeParse({
      userId: options.user,
      userName: options.userName,
      sessionId: options.session,
      clientId: options.client,
      types: options.type.length === 0 ? undefined : options.type,
      ip: options.ip,
      requestId: options.request,
      from: options.since,
      to: options.until,
      limit: options.limit,
    });
    if (!parsed.success) {
      throw new ValidationError(parsed.error.issues.map((issue) => ({ path: optionNames[String(issue.path[0])] ?? String(issue.path[0]), message: issue.message })));
    }
    const { limit, ...filters } = parsed.data;
    const { auditLog, serviceKeys } = await createPosAuthPersistence(pool);
    const deps = { auditLog, pseudonymizer: createHmacPseudonymizer(serviceKeys.userNameHmac) };
    let shown = 0;
    if (options.format === 'table') await write(tableLine(columns.map((column) => column.title)));
    if (options.format === 'json') await write('[');
    for await (const event of readAllAuditEvents(deps, toAuditQuery(filters))) {
      if (limit !== undefined && shown >= limit) break;
      if (options.format === 'table') await write(tableLine(columns.map((column) => column.of(event))));
      else if (options.format === 'json') await write(`${shown === 0 ? '\n' : ',\n'}${JSON.stringify(auditEventResource(event))}`);
      else await write(`${JSON.stringify(auditEventResource(event))}\n`);
      shown += 1;
    }
    if (options.format === 'json') await write(shown === 0 ? ']\n' : '\n]\n');
  });

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

const collect = (value: string, previous: string[]) => [...previous, value];

/** `audit events` and `audit verify`. */
export const registerAuditCommands = (program: Command): void => {
  const audit = program.command('audit').description('query the event log and check that nobody rewrote it');

  audit
    .command('events')
    .description('the events matching every filter given, in commit order (as GET /audit/events)')
    .option('--user <user_id>', 'events about this user, their sessions included')
    .option('--user-name <name>', "that name's account's events and every failed login typed with it")
    .option('--session <session_id>', "the session's events")
    .option('--client <client_id>', 'events caused through this client')
    .option('--type <type>', 'events of this type (repeatable)', collect, [])
    .option('--ip <ip>', 'events from this IP')
    .option('--request <request_id>', 'events of this request (X-Request-Id)')
    .option('--since <instant>', 'recorded at or after this ISO 8601 date or date-time')
    .option('--until <instant>', 'recorded before this ISO 8601 date or date-time')
    .option('--limit <n>', 'at most this many events')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'ndjson']).default('table'))
    .action(events);

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
