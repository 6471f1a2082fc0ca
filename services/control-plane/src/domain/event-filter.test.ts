import { describe, expect, it } from 'vitest';
import { EventQuerySchema } from '@meridian/contracts/api/task-event';
import { emptyRangeReason, eventFilterKey, eventFilterOf } from './event-filter.js';

const parse = (query: Record<string, string | string[]>) => EventQuerySchema.safeParse(query);

describe('event query parameters', () => {
  it.each([
    [{}, { limit: 100 }],
    [{ types: 'TaskTriggered,TaskRescheduled' }, { types: ['TaskTriggered', 'TaskRescheduled'] }],
    [{ types: ' TaskFailed , TaskFailed' }, { types: ['TaskFailed'] }],
    [{ types: ['TaskCreated', 'TaskQueued,TaskCreated'] }, { types: ['TaskCreated', 'TaskQueued'] }],
    [{ types: 'A'.repeat(64) }, { types: ['A'.repeat(64)] }],
    [{ types: Array.from({ length: 50 }, (_, i) => `T${i}`).join(',') }, {}],
    [
      { from: '2025-01-01', to: '2025-01-31' },
      { from: '2025-01-01', to: '2025-01-31' },
    ],
    [{ from: '2025-01-31T10:00:00Z', to: '2025-01-31T10:00:00.5+02:00' }, {}],
    [{ actor: 'user:alice' }, { actor: 'user:alice' }],
    [{ limit: '1' }, { limit: 1 }],
    [{ limit: '1000' }, { limit: 1000 }],
    [{ cursor: 'MS4uMTIuYWJj', other: 'ignored' }, { cursor: 'MS4uMTIuYWJj' }],
  ])('accepts %j', (query, expected) => {
    const result = parse(query);
    expect(result.success).toBe(true);
    expect(result.data).toMatchObject(expected);
  });

  it.each([
    [{ types: '' }, 'types'],
    [{ types: 'TaskCreated,,TaskQueued' }, 'types'],
    [{ types: 'Task-Created' }, 'types'],
    [{ types: '1Task' }, 'types'],
    [{ types: 'A'.repeat(65) }, 'types'],
    [{ types: Array.from({ length: 51 }, (_, i) => `T${i}`).join(',') }, 'types'],
    [{ from: '2025-02-30' }, 'from'],
    [{ from: '2025-01-31T10:00:00' }, 'from'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '0000-01-01' }, 'from'],
    [{ to: '2025-1-31' }, 'to'],
    [{ actor: '' }, 'actor'],
    [{ actor: 'a'.repeat(201) }, 'actor'],
    [{ actor: 'user:\u0000' }, 'actor'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ cursor: 'not a cursor' }, 'cursor'],
    [{ actor: ['user:a', 'user:b'] }, 'actor'],
  ])('refuses %j, naming %s', (query, field) => {
    const result = parse(query);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });
});

describe('event filters', () => {
  const filterOf = (query: Record<string, string>) => eventFilterOf(EventQuerySchema.parse(query));

  it.each([
    [{}, { types: null, from: null, to: null, actor: null }],
    [{ from: '2025-01-01' }, { from: '2025-01-01T00:00:00Z' }],
    [{ to: '2025-01-31' }, { to: { at: '2025-02-01T00:00:00Z', inclusive: false } }],
    [{ to: '2024-02-28' }, { to: { at: '2024-02-29T00:00:00Z', inclusive: false } }],
    [{ to: '2025-12-31' }, { to: { at: '2026-01-01T00:00:00Z', inclusive: false } }],
    [{ to: '9999-12-31' }, { to: { at: '10000-01-01T00:00:00Z', inclusive: false } }],
    [{ to: '0001-01-01' }, { to: { at: '0001-01-02T00:00:00Z', inclusive: false } }],
    [{ to: '2025-01-31T23:00:00-05:00' }, { to: { at: '2025-01-31T23:00:00-05:00', inclusive: true } }],
    [{ from: '2025-01-31T10:00:00.123456Z' }, { from: '2025-01-31T10:00:00.123456Z' }],
  ])('%j → %j', (query, expected) => {
    expect(filterOf(query)).toMatchObject(expected);
  });

  it.each([
    ['2025-01-31', '2025-01-31', null],
    ['2025-01-31T23:59:59.999Z', '2025-01-31', null],
    ['2025-02-01', '2025-01-31', 'must not be after `to`'],
    ['2025-02-01T00:00:00Z', '2025-01-31', 'must not be after `to`'],
    ['2025-01-31T10:00:00Z', '2025-01-31T10:00:00Z', null],
    ['2025-01-31T10:00:00.001Z', '2025-01-31T10:00:00Z', 'must not be after `to`'],
    ['2025-01-31T10:00:00+01:00', '2025-01-31T09:30:00Z', null],
    ['2025-01-31', '2025-01-30T23:59:59Z', 'must not be after `to`'],
  ])('from %s to %s: %s', (from, to, expected) => {
    expect(emptyRangeReason({ from, to })).toBe(expected);
  });

  it('names one filter whatever the order of its types, and tells filters apart', () => {
    expect(eventFilterKey(filterOf({ types: 'B,A' }))).toBe(eventFilterKey(filterOf({ types: 'A,B' })));
    const queries: Record<string, string>[] = [
      {},
      { types: 'A' },
      { types: 'A,B' },
      { actor: 'user:a' },
      { from: '2025-01-01' },
      { to: '2025-01-31' },
      { to: '2025-02-01T00:00:00Z' },
    ];
    const keys = queries.map((query) => eventFilterKey(filterOf(query)));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
