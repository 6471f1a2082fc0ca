import { describe, expect, it } from 'vitest';
import { assignTasksToNodes, priorityFromRank, priorityRank } from './node-selection.js';

const node = (id: string, active: number, capacity = 2, orgId = 'o1') => ({ id, orgId, capacity, active });
const task = (taskId: string, nodeId: string | null = null, orgId = 'o1') => ({ taskId, orgId, nodeId });

describe('assignTasksToNodes', () => {
  it.each([
    ['fills free slots only', [task('a'), task('b'), task('c')], [node('n1', 1)], [['a', 'n1']]],
    [
      'prefers the least-loaded node',
      [task('a'), task('b')],
      [node('n1', 1), node('n2', 0)],
      [
        ['a', 'n2'],
        ['b', 'n1'],
      ],
    ],
    ['sends a pinned task only to its node', [task('a', 'n1')], [node('n1', 2), node('n2', 0)], []],
    [
      'places a pinned task on its free node',
      [task('a', 'n2')],
      [node('n1', 0), node('n2', 0)],
      [['a', 'n2']],
    ],
    ['never crosses organisations', [task('a', null, 'o2')], [node('n1', 0)], []],
    ['never uses another organisation’s node even when pinned', [task('a', 'n1', 'o2')], [node('n1', 0)], []],
    [
      'spreads over nodes as load grows',
      [task('a'), task('b'), task('c'), task('d')],
      [node('n1', 0), node('n2', 0)],
      [
        ['a', 'n1'],
        ['b', 'n2'],
        ['c', 'n1'],
        ['d', 'n2'],
      ],
    ],
    ['treats a node of capacity 0 as full', [task('a')], [node('n1', 0, 0)], []],
  ] as const)('%s', (_name, tasks, nodes, expected) => {
    const result = assignTasksToNodes(tasks, nodes).map((a) => [a.taskId, a.nodeId]);
    expect(result).toEqual(expected);
  });
});

describe('priority ranks', () => {
  it.each([
    ['Low', 0],
    ['Normal', 1],
    ['High', 2],
    ['Critical', 3],
  ] as const)('%s ↔ %i', (name, rank) => {
    expect(priorityRank(name)).toBe(rank);
    expect(priorityFromRank(rank)).toBe(name);
  });
});
