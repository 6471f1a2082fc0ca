import { describe, expect, it } from 'vitest';
import { backupIdOf, backupTimeOf } from './backup-id.js';
import { decidePrune, type PruneRules } from './backup-prune.js';

const now = new Date('2025-03-10T12:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
const backups = [
  { backupId: 'd0', createdAt: daysAgo(0) },
  { backupId: 'd1', createdAt: daysAgo(1) },
  { backupId: 'd3', createdAt: daysAgo(3) },
  { backupId: 'd10', createdAt: daysAgo(10) },
  { backupId: 'd40', createdAt: daysAgo(40) },
];

describe('decidePrune', () => {
  it.each<[string, Omit<PruneRules, 'now'>, string[]]>([
    ['no rules: nothing', {}, []],
    ['keepLast 2', { keepLast: 2 }, ['d40', 'd10', 'd3']],
    ['keepLast 10: nothing', { keepLast: 10 }, []],
    ['retentionDays 7', { retentionDays: 7 }, ['d40', 'd10']],
    ['retentionDays 30', { retentionDays: 30 }, ['d40']],
    ['both: the union', { keepLast: 4, retentionDays: 7 }, ['d40', 'd10']],
    ['both, keepLast stricter', { keepLast: 1, retentionDays: 30 }, ['d40', 'd10', 'd3', 'd1']],
    ['the new backup is never pruned', { keepLast: 1, keep: 'd1' }, ['d40', 'd10', 'd3']],
    ['not even when old', { retentionDays: 1, keep: 'd40' }, ['d10', 'd3']],
  ])('%s', (_, rules, expected) => {
    expect(decidePrune(backups, { ...rules, now })).toEqual(expected);
  });

  it('orders backups of the same second by id', () => {
    const same = daysAgo(0);
    const pair = [
      { backupId: 'a', createdAt: same },
      { backupId: 'b', createdAt: same },
    ];
    expect(decidePrune(pair, { keepLast: 1, now })).toEqual(['a']);
  });
});

describe('backup ids', () => {
  it('carry their UTC creation time to the second', () => {
    const id = backupIdOf(new Date('2025-03-10T08:05:09.123Z'), '0a1b2c3d');
    expect(id).toBe('20250310T080509Z-0a1b2c3d');
    expect(backupTimeOf(id)).toEqual(new Date('2025-03-10T08:05:09Z'));
  });

  it.each(['20250310T080509Z', 'latest', '20250310T080509Z-0A1B2C3D', '../x'])('%j is not one', (id) => {
    expect(backupTimeOf(id)).toBeUndefined();
  });
});
