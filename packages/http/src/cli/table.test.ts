import { describe, expect, it } from 'vitest';
import { table } from './table.js';

describe('table', () => {
  const columns = [
    { title: 'id', of: (row: { id: string; note: string | null }) => row.id },
    { title: 'note', of: (row: { id: string; note: string | null }) => row.note },
  ];

  it('makes each column as wide as its widest cell, and trims the ends of lines', () => {
    expect(table(columns, [{ id: 'a-long-id', note: 'x' }, { id: 'b', note: null }])).toBe('id         note\na-long-id  x\nb\n');
  });

  it('is the title line alone when there are no rows', () => {
    expect(table(columns, [])).toBe('id  note\n');
  });
});
