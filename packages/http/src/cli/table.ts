/** A column of a table the commands print: its title and what a row shows under it. */
export interface Column<T> {
  readonly title: string;
  readonly of: (row: T) => string | null;
}

/**
 * Rows as a plain-text table, each column as wide as its widest cell, one line per row (title line
 * first), trailing spaces trimmed; an absent value is an empty cell.
 *
 * @example
 * process.stdout.write(table([{ title: 'client_id', of: (c) => c.clientId }], clients));
 */
export const table = <T>(columns: readonly Column<T>[], rows: readonly T[]): string => {
  const cells = [columns.map((column) => column.title), ...rows.map((row) => columns.map((column) => column.of(row) ?? ''))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells.map((line) => `${line.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd()}\n`).join('');
};
