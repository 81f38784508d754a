import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { TestServer } from '../testing.js';

// What a test looks at to show that a value is nowhere: the whole database, and the logs.

/** Every table of the schema, each row as text: what a dump of the database would show. */
export const everyTableAsText = async (server: TestServer): Promise<string> => {
  const { rows: tables } = await server.pool.query<{ name: string }>(
    "SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    [server.schema],
  );
  // The tables that must be there for the dump to mean anything.
  const names = new Set(tables.map((table) => table.name));
  for (const name of ['events', 'streams', 'users', 'sessions', 'claims', 'login_activity']) {
    if (!names.has(name)) throw new Error(`everyTableAsText: no table ${name} in ${server.schema}`);
  }
  let text = '';
  for (const table of tables) {
    const { rows } = await server.pool.query<{ row: string }>(`SELECT t::text AS row FROM ${table.name} t`);
    text += `${table.name}\n${rows.map((row) => row.row).join('\n')}\n`;
  }
  return text;
};

/** A logger that keeps every line it writes, at the most verbose level. */
export const capturedLogger = () => {
  let output = '';
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    }),
  );
  return { logger, output: () => output };
};

