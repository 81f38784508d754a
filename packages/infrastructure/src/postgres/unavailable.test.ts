import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './unavailable.js';

const databaseError = (code: string) => Object.assign(new DatabaseError('server says no', 0, 'error'), { code });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['terminated by an administrator (57P01)', databaseError('57P01')],
    ['crash shutdown (57P02)', databaseError('57P02')],
    ['starting up (57P03)', databaseError('57P03')],
    ['too many connections (53300)', databaseError('53300')],
    ['a connection exception (08006)', databaseError('08006')],
    ['refused', socketError('ECONNREFUSED')],
    ['reset', socketError('ECONNRESET')],
    ['a refusal on every address of the host', Object.assign(new AggregateError([socketError('ECONNREFUSED')]), {})],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a connection that could not be opened in time', new Error('Connection terminated due to connection timeout')],
    ['no free connection in time', new Error('timeout exceeded when trying to connect')],
    ['a connection broken while checked out', new Error('Client has encountered a connection error and is not queryable')],
    ['a pool ended by shutdown', new Error('Cannot use a pool after calling end on the pool')],
    ['any of these as the cause', new Error('wrapped', { cause: databaseError('57P01') })],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', databaseError('23505')],
    ['a syntax error', databaseError('42601')],
    ['a missing table', databaseError('42P01')],
    ['a query canceled by statement_timeout', databaseError('57014')],
    ['a programming error', new TypeError('x is not a function')],
    ['a message that only mentions a connection', new Error('User said: Connection terminated')],
    ['nothing', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
