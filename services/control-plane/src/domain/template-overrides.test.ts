import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  checkDeclaredFields,
  deepMerge,
  parseOverridePath,
  type OverridableTask,
} from './template-overrides.js';

const tasks: OverridableTask[] = [
  {
    name: 'backup',
    payload: { world: 'main', retentionDays: 7, options: { compress: true, level: 3 }, paths: ['a'] },
    payloadSchema: {
      type: 'object',
      properties: {
        destination: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  },
  { name: 'stop', payload: {} },
  { name: 'stop.graceful', payload: { seconds: 10 } },
];
const containing = (text: string) => expect.stringContaining(text) as string;
const names = tasks.map((task) => task.name);
const none = { requiredFields: [], optionalFields: [] };

describe('parseOverridePath', () => {
  it.each([
    ['backup.payload.retentionDays', { task: 'backup', kind: 'payload', path: ['retentionDays'] }],
    ['backup.payload', { task: 'backup', kind: 'payload', path: [] }],
    ['backup.timeoutSeconds', { task: 'backup', kind: 'field', field: 'timeoutSeconds' }],
    ['stop.priority', { task: 'stop', kind: 'field', field: 'priority' }],
    ['stop.graceful.payload.seconds', { task: 'stop.graceful', kind: 'payload', path: ['seconds'] }],
  ])('%s', (path, target) => {
    expect(parseOverridePath(path, names)).toEqual({ ok: true, target });
  });

  it.each([
    ['restore.payload.x', 'does not start with the name of a task'],
    ['backup', 'does not start with the name of a task'],
    ['backup.type', 'names no field of task "backup"'],
    ['backup.timeoutSeconds.x', 'names no field of task "backup"'],
    ['backup.payload..x', 'has an empty segment'],
    ['backup.payload.__proto__.x', 'may not hold the segment "__proto__"'],
    ['backup.payload.constructor', 'may not hold the segment "constructor"'],
  ])('%s is refused: %s', (path, message) => {
    const parsed = parseOverridePath(path, names);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });
});

describe('checkDeclaredFields', () => {
  it('names each declared path that parses to no field', () => {
    expect(
      checkDeclaredFields(tasks, {
        requiredFields: ['backup.payload.destination', 'nope.payload.x'],
        optionalFields: ['stop.type'],
      }),
    ).toEqual([
      { field: 'requiredFields[1]', message: containing('"nope.payload.x"') },
      { field: 'optionalFields[0]', message: containing('names no field') },
    ]);
  });
});

describe('deepMerge (BR-TPL-004: default config merged with user config)', () => {
  it.each([
    ['override wins on a scalar', { a: 1, b: 2 }, { b: 3 }, { a: 1, b: 3 }],
    ['objects merge key by key', { o: { x: 1, y: 2 } }, { o: { y: 3, z: 4 } }, { o: { x: 1, y: 3, z: 4 } }],
    ['arrays are replaced', { l: [1, 2] }, { l: [3] }, { l: [3] }],
    ['an object replaces a scalar', { o: 1 }, { o: { x: 1 } }, { o: { x: 1 } }],
    ['null replaces', { o: { x: 1 } }, { o: null }, { o: null }],
  ])('%s', (_, base, override, expected) => {
    expect(deepMerge(base, override)).toEqual(expected);
  });

  it('keeps a "__proto__" key an own property and leaves the inputs untouched', () => {
    const base = { a: { x: 1 } };
    const merged = deepMerge(
      base,
      JSON.parse('{"__proto__": {"polluted": true}, "a": {"y": 2}}') as Record<string, unknown>,
    );
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(base).toEqual({ a: { x: 1 } });
  });
});

describe('applyOverrides', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['no overrides: the defaults', {}, tasks[0]!.payload],
    ['a leaf', { 'backup.payload.retentionDays': 14 }, { ...tasks[0]!.payload, retentionDays: 14 }],
    [
      'a nested object is merged',
      { 'backup.payload.options': { level: 9 } },
      { ...tasks[0]!.payload, options: { compress: true, level: 9 } },
    ],
    [
      'the whole payload is merged, then a leaf under it',
      { 'backup.payload': { world: 'other', options: { level: 1 } }, 'backup.payload.options.level': 2 },
      { ...tasks[0]!.payload, world: 'other', options: { compress: true, level: 2 } },
    ],
    [
      'a property the schema describes',
      { 'backup.payload.destination': 's3://b' },
      { ...tasks[0]!.payload, destination: 's3://b' },
    ],
    [
      'a key under additionalProperties',
      { 'backup.payload.labels.env': 'prod' },
      { ...tasks[0]!.payload, labels: { env: 'prod' } },
    ],
    [
      'an array is replaced',
      { 'backup.payload.paths': ['b', 'c'] },
      { ...tasks[0]!.payload, paths: ['b', 'c'] },
    ],
  ])('%s', (_, overrides, payload) => {
    const result = applyOverrides(tasks, overrides, none);
    expect(result.ok && result.tasks[0]!.payload).toEqual(payload);
    expect(tasks[0]!.payload['retentionDays']).toBe(7);
  });

  it('sets task fields and leaves the other tasks alone', () => {
    const result = applyOverrides(tasks, { 'stop.timeoutSeconds': 30, 'stop.priority': 'High' }, none);
    expect(result.ok && result.tasks.map((task) => task.fields)).toEqual([
      {},
      { timeoutSeconds: 30, priority: 'High' },
      {},
    ]);
  });

  it('accepts a declared optional field the defaults do not hold', () => {
    const result = applyOverrides(
      tasks,
      { 'stop.payload.reason': 'update' },
      {
        requiredFields: [],
        optionalFields: ['stop.payload.reason'],
      },
    );
    expect(result.ok && result.tasks[1]!.payload).toEqual({ reason: 'update' });
  });

  it.each<[string, Record<string, unknown>, string[], string, string]>([
    [
      'a required field missing',
      {},
      ['backup.payload.destination'],
      'overrides.backup.payload.destination',
      'is required',
    ],
    [
      'an unknown task',
      { 'restore.payload.x': 1 },
      [],
      'overrides.restore.payload.x',
      'does not start with the name',
    ],
    [
      'an unknown payload key',
      { 'backup.payload.retention': 1 },
      [],
      'overrides.backup.payload.retention',
      'names no field of the template',
    ],
    [
      'a task field not overridable',
      { 'backup.type': 'Other' },
      [],
      'overrides.backup.type',
      'names no field of task',
    ],
    [
      'a payload that is not an object',
      { 'stop.payload': 3 },
      [],
      'overrides.stop.payload',
      'must be an object',
    ],
  ])('refuses %s, naming it', (_, overrides, requiredFields, field, message) => {
    const result = applyOverrides(tasks, overrides, { requiredFields, optionalFields: [] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([{ field, message: containing(message) }]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['by itself', { 'backup.payload.destination': 'x' }],
    ['by a parent holding it', { 'backup.payload': { destination: 'x' } }],
  ])('counts a required field given %s', (_, overrides) => {
    expect(
      applyOverrides(tasks, overrides, { requiredFields: ['backup.payload.destination'], optionalFields: [] })
        .ok,
    ).toBe(true);
  });

  it('reports every problem at once', () => {
    const result = applyOverrides(
      tasks,
      { 'x.payload': {}, 'backup.payload.nope': 1 },
      {
        requiredFields: ['stop.payload.reason'],
        optionalFields: [],
      },
    );
    expect(!result.ok && result.issues.map((issue) => issue.field)).toEqual([
      'overrides.stop.payload.reason',
      'overrides.x.payload',
      'overrides.backup.payload.nope',
    ]);
  });
});
