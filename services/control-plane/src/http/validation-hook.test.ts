import { describe, expect, it } from 'vitest';
import { CreateTaskBodySchema, ListTasksQuerySchema } from '@meridian/contracts/api/task';
import { fieldErrors } from './validation-hook.js';

function errorsOf(target: 'json' | 'query', schema: { safeParse(value: unknown): unknown }, value: unknown) {
  const result = schema.safeParse(value) as { success: boolean; error?: Parameters<typeof fieldErrors>[1] };
  if (result.success || !result.error) throw new Error('expected a validation failure');
  return fieldErrors(target, result.error).map((error) => error.field);
}

const valid = { type: 'shell', name: 'Backup', targetType: 'server', targetId: 'srv-1' };

describe('fieldErrors', () => {
  it('names body fields, one entry per unknown key', () => {
    expect(errorsOf('json', CreateTaskBodySchema, { ...valid, priority: 'Urgent', a: 1, b: 2 })).toEqual([
      'body.priority',
      'body.a',
      'body.b',
    ]);
  });

  it('names a missing field', () => {
    const { type: _type, ...withoutType } = valid;
    expect(errorsOf('json', CreateTaskBodySchema, withoutType)).toEqual(['body.type']);
  });

  it('names nested paths and query parameters', () => {
    expect(errorsOf('query', ListTasksQuerySchema, { limit: '500', page: '0' })).toEqual([
      'query.page',
      'query.limit',
    ]);
  });

  it('names the body itself when it is not an object', () => {
    expect(errorsOf('json', CreateTaskBodySchema, [1, 2])).toEqual(['body']);
  });
});
