import { describe, expect, it } from 'vitest';
import { compilePayloadSchema, schemaViolations } from './payload-schemas.js';

describe('compilePayloadSchema', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an unknown type', { type: 'objekt' }],
    ['an unknown keyword', { propertees: {} }],
    ['an unknown format', { type: 'string', format: 'colour' }],
    ['a reference to another document (nothing is fetched)', { $ref: 'https://example.com/schema.json' }],
    ['an $async schema', { $async: true, type: 'object' }],
    ['a bad pattern', { type: 'string', pattern: '(' }],
    ['a pattern with a backreference (not RE2)', { type: 'string', pattern: '(a)\\1' }],
    ['a pattern with lookbehind (not RE2)', { type: 'string', pattern: '(?<=a)b' }],
    ['another draft', { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }],
  ])('refuses %s', (_, schema) => {
    const compiled = compilePayloadSchema(schema);
    expect(compiled.ok).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ['properties without a type', { properties: { a: { type: 'integer' } } }],
    ['a known format', { type: 'string', format: 'uri' }],
    ['draft-07 named', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }],
    ['a local reference', { $defs: { n: { type: 'integer' } }, properties: { a: { $ref: '#/$defs/n' } } }],
  ])('compiles %s', (_, schema) => {
    expect(compilePayloadSchema(schema).ok).toBe(true);
  });
});

describe('patterns from requests', () => {
  it.each<[string, string, boolean]>([
    ['matches', 'aaaa', true],
    // A backtracking engine would take hours on this one: RE2's answers in linear time.
    ['refuses in linear time', `${'a'.repeat(200_000)}!`, false],
  ])('%s', (_, value, valid) => {
    const compiled = compilePayloadSchema({ type: 'string', pattern: '^(a+)+$' });
    if (!compiled.ok) throw new Error(compiled.message);
    expect(compiled.validate(value)).toBe(valid);
  });
});

describe('schemaViolations', () => {
  const schema = {
    type: 'object',
    required: ['destination'],
    additionalProperties: false,
    properties: {
      destination: { type: 'string' },
      retentionDays: { type: 'integer', maximum: 30 },
      'a/b': { type: 'object', properties: { c: { type: 'boolean' } } },
    },
  };
  const compiled = compilePayloadSchema(schema);
  if (!compiled.ok) throw new Error(compiled.message);

  it.each<[string, unknown, { path: string[]; message: string }[]]>([
    ['a valid payload', { destination: 'x', retentionDays: 3 }, []],
    [
      'a missing property, named',
      {},
      [{ path: ['destination'], message: 'is required by the payload schema' }],
    ],
    [
      'an extra property, named',
      { destination: 'x', extra: 1 },
      [{ path: ['extra'], message: 'is not allowed by the payload schema' }],
    ],
    [
      'a value out of range',
      { destination: 'x', retentionDays: 90 },
      [{ path: ['retentionDays'], message: 'must be <= 30' }],
    ],
    [
      'a key with a slash, unescaped',
      { destination: 'x', 'a/b': { c: 'yes' } },
      [{ path: ['a/b', 'c'], message: 'must be boolean' }],
    ],
  ])('%s', (_, value, violations) => {
    expect(schemaViolations(compiled.validate, value)).toEqual(violations);
  });
});
