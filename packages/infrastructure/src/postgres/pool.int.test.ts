import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { createPool } from './pool.js';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 1 });
});
afterAll(() => db?.drop());

it('parses int8 as bigint, exactly, beyond 2^53', async () => {
  const { rows } = await db.pool.query('SELECT 9007199254740993::int8 AS n, 7::int4 AS small');
  expect(rows).toEqual([{ n: 9007199254740993n, small: 7 }]);
});

it('keeps every connection in its schema, also the one that replaces a connection lost to an error', async () => {
  expect((await db.pool.query('SELECT current_schema() AS schema')).rows).toEqual([{ schema: db.schema }]);
  // pg's pool discards a connection whose query failed; the next one must be set up again.
  await expect(db.pool.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
  expect((await db.pool.query('SELECT current_schema() AS schema')).rows).toEqual([{ schema: db.schema }]);
});

it('waits at most 5 s for a connection unless told otherwise, so a silent database fails requests instead of hanging them', async () => {
  const pool = createPool(db.connectionString);
  try {
    expect((pool as unknown as { options: { connectionTimeoutMillis: number } }).options.connectionTimeoutMillis).toBe(5_000);
  } finally {
    await pool.end();
  }
});

it('refuses bad options as programmer errors', () => {
  expect(() => createPool(db.connectionString, { schema: '' })).toThrow(TypeError);
  expect(() => createPool(db.connectionString, { max: 0 })).toThrow(TypeError);
  expect(() => createPool(db.connectionString, { connectionTimeoutMillis: 0 })).toThrow(TypeError);
});

it('plans prepared statements once per connection (generic plans), keeping options the connection string gives', async () => {
  expect((await db.pool.query('SHOW plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
  const url = new URL(db.connectionString);
  url.searchParams.set('options', '-c statement_timeout=12345');
  const pool = createPool(url.toString(), { schema: db.schema, max: 1 });
  try {
    expect((await pool.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '12345ms' }]);
    expect((await pool.query('SHOW plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
  } finally {
    await pool.end();
  }
});
