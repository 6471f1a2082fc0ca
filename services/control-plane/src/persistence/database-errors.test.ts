import { QueryFailedError, CannotExecuteNotConnectedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError } from './database-errors.js';

/** An error as node-postgres builds it from the server's ErrorResponse. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });
}

function queryFailed(driverError: Error): QueryFailedError {
  return new QueryFailedError('UPDATE executions SET …', ['secret'], driverError);
}

describe('isTransientDatabaseError', () => {
  it.each<[string, unknown]>([
    ['connection refused', systemError('ECONNREFUSED')],
    ['connection reset', systemError('ECONNRESET')],
    ['host unreachable', systemError('EHOSTUNREACH')],
    ['name not resolved yet', systemError('EAI_AGAIN')],
    [
      'refused on every address (AggregateError)',
      Object.assign(new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')]), {
        code: undefined,
      }),
    ],
    ['connection lost', new Error('Connection terminated unexpectedly')],
    ['connection timeout', new Error('Connection terminated due to connection timeout')],
    ['pool acquire timeout', new Error('timeout exceeded when trying to connect')],
    ['client broken', new Error('Client has encountered a connection error and is not queryable')],
    ['pool ended', new Error('Cannot use a pool after calling end on the pool')],
    ['admin shutdown 57P01', pgError('57P01', 'terminating connection due to administrator command')],
    [
      'crash shutdown 57P02',
      pgError('57P02', 'terminating connection because of crash of another server process'),
    ],
    ['starting up 57P03', pgError('57P03', 'the database system is starting up')],
    ['connection exception 08006', pgError('08006', 'connection failure')],
    ['connection exception 08001', pgError('08001', 'could not connect')],
    ['too many connections 53300', pgError('53300', 'sorry, too many clients already')],
    ['out of memory 53200', pgError('53200', 'out of memory')],
    ['disk full 53100', pgError('53100', 'could not extend file')],
    ['serialization failure 40001', pgError('40001', 'could not serialize access')],
    ['deadlock 40P01', pgError('40P01', 'deadlock detected')],
    ['wrapped by TypeORM', queryFailed(pgError('40P01', 'deadlock detected'))],
    ['TypeORM not connected', new CannotExecuteNotConnectedError('default')],
    ['as a cause', new Error('could not record', { cause: systemError('ECONNREFUSED') })],
  ])('%s: transient', (_, error) => {
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['NUL byte in text 22P05', queryFailed(pgError('22P05', 'unsupported Unicode escape sequence'))],
    ['integer out of range 22003', queryFailed(pgError('22003', 'value "3000000000" is out of range'))],
    ['invalid text 22021', pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00')],
    ['unique violation 23505', pgError('23505', 'duplicate key value violates unique constraint')],
    ['stack depth 54001', pgError('54001', 'stack depth limit exceeded')],
    ['syntax error 42601', pgError('42601', 'syntax error at or near "x"')],
    ['query cancelled 57014', pgError('57014', 'canceling statement due to statement timeout')],
    ['a bug in our code', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['stack overflow', new RangeError('Maximum call stack size exceeded')],
    ['a string', 'Connection terminated'],
    ['null', null],
    ['undefined', undefined],
    ['a code that only looks like a class', pgError('08', 'not a SQLSTATE')],
  ])('%s: not transient', (_, error) => {
    expect(isTransientDatabaseError(error)).toBe(false);
  });

  it('does not loop on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isTransientDatabaseError(a)).toBe(false);
  });
});
