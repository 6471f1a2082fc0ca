import { describe, expect, it } from 'vitest';
import { LOGGED_MESSAGE_MAX_CHARS, serializeError, summarizeError } from './serialize-error.js';

/** The shape of TypeORM's QueryFailedError: the SQL, every parameter, and the driver's error. */
function queryFailedError() {
  const driverError = Object.assign(new Error('value "3000000000" is out of range for type integer'), {
    code: '22003',
    detail: 'Key (org_id)=(other-org) secret',
    where: 'unnest parameter $5',
  });
  const error = Object.assign(new Error(driverError.message), {
    name: 'QueryFailedError',
    query: 'INSERT INTO log_lines (text) SELECT * FROM unnest($1::text[])',
    parameters: [['line of another organisation', 'x'.repeat(10_000)]],
    driverError,
    code: '22003',
    detail: driverError.detail,
  });
  return error;
}

describe('serializeError', () => {
  it('keeps the kind, code, message and stack frames of a query error, and drops SQL, parameters and detail', () => {
    const serialized = serializeError(queryFailedError());
    expect(serialized).toMatchObject({
      type: 'QueryFailedError',
      code: '22003',
      message: 'value "3000000000" is out of range for type integer',
      cause: { type: 'Error', code: '22003' },
    });
    expect(serialized.stack).toMatch(/^QueryFailedError: value .*\n\s+at /);
    const text = JSON.stringify(serialized);
    expect(text).not.toMatch(/INSERT|unnest|another organisation|xxxx|other-org|secret/);
    expect(Object.keys(serialized).sort()).toEqual(['cause', 'code', 'message', 'stack', 'type']);
  });

  it.each([
    ['a long message', new Error('y'.repeat(1_000_000))],
    ['a thrown string', 'z'.repeat(1_000_000)],
    [
      'a message in the stack only',
      Object.assign(new Error('short'), { stack: `Error: ${'w'.repeat(100_000)}` }),
    ],
  ])('bounds %s', (_, error) => {
    const serialized = serializeError(error);
    expect(serialized.message.length).toBeLessThan(LOGGED_MESSAGE_MAX_CHARS + 50);
    // The message twice (field and stack's first line) and at most 15 frames of 300 characters.
    expect(JSON.stringify(serialized).length).toBeLessThan(2 * (LOGGED_MESSAGE_MAX_CHARS + 50) + 15 * 310);
  });

  it('keeps a system error’s code, errno and syscall', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: '127.0.0.1',
    });
    expect(serializeError(error)).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
  });

  it('keeps a few inner errors of an AggregateError and stops at a cycle', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    const aggregate = new AggregateError([inner, inner, inner, inner, inner, inner, inner], 'all failed');
    const serialized = serializeError(aggregate);
    expect(serialized.type).toBe('AggregateError');
    expect(serialized.errors).toHaveLength(5);
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(() => JSON.stringify(serializeError(a))).not.toThrow();
  });
});

describe('summarizeError', () => {
  it.each<[unknown, string]>([
    [queryFailedError(), 'QueryFailedError 22003: value "3000000000" is out of range for type integer'],
    [new RangeError('Maximum call stack size exceeded'), 'RangeError: Maximum call stack size exceeded'],
    ['just a string', 'string: just a string'],
    [Object.assign(new Error('a\n  multi-line\tmessage'), { code: 'E1' }), 'Error E1: a multi-line message'],
  ])('summary %#', (error, summary) => {
    expect(summarizeError(error)).toBe(summary);
  });

  it('is short', () => {
    expect(summarizeError(new Error('q'.repeat(10_000))).length).toBeLessThanOrEqual(230);
  });
});
