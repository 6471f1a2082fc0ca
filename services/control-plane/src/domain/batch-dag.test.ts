import { describe, expect, it } from 'vitest';
import { checkBatchDag, externalReferences, findCycle, topologicalOrder, type DagStep } from './batch-dag.js';

const EXISTING = 'aaaaaaaa-0000-4000-8000-000000000001';
const MISSING = 'aaaaaaaa-0000-4000-8000-000000000002';
const step = (name: string, ...dependsOn: string[]): DagStep => ({ name, dependsOn });

describe('checkBatchDag', () => {
  it.each<[string, DagStep[], { field: string; message: RegExp }[]]>([
    [
      'a duplicate name',
      [step('a'), step('b'), step('a')],
      [{ field: 'tasks[2].name', message: /tasks\[0\]/ }],
    ],
    [
      'an unknown name',
      [step('a'), step('b', 'a', 'zzz')],
      [{ field: 'tasks[1].dependsOn[1]', message: /"zzz"/ }],
    ],
    ['a missing task id', [step('a', MISSING)], [{ field: 'tasks[0].dependsOn[0]', message: /neither/ }]],
    [
      'a self dependency',
      [step('a'), step('b', 'b')],
      [{ field: 'tasks[1].dependsOn[0]', message: /itself/ }],
    ],
    [
      'a two-step cycle',
      [step('a', 'b'), step('b', 'a')],
      [{ field: 'tasks[0].dependsOn[0]', message: /a → b → a/ }],
    ],
    [
      'a three-step cycle behind a root',
      [step('root'), step('a', 'root', 'c'), step('b', 'a'), step('c', 'b')],
      [{ field: 'tasks[1].dependsOn[1]', message: /a → c → b → a/ }],
    ],
  ])('refuses %s, naming the field', (_, steps, expected) => {
    const result = checkBatchDag(steps, new Set([EXISTING]), 500);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(expected.length);
    result.issues.forEach((issue, index) => {
      expect(issue.field).toBe(expected[index]!.field);
      expect(issue.message).toMatch(expected[index]!.message);
    });
  });

  it('names the cycle in the detail', () => {
    const result = checkBatchDag([step('a', 'c'), step('b', 'a'), step('c', 'b')], new Set(), 500);
    expect(result).toMatchObject({
      ok: false,
      detail: "the tasks' dependencies form a cycle: a → c → b → a",
    });
  });

  it('refuses more than the limit, naming tasks', () => {
    const steps = Array.from({ length: 501 }, (_, index) => step(`s${index}`));
    expect(checkBatchDag(steps, new Set(), 500)).toMatchObject({
      ok: false,
      issues: [{ field: 'tasks', message: 'holds 501 tasks; a batch holds at most 500' }],
    });
    expect(checkBatchDag(steps.slice(0, 500), new Set(), 500).ok).toBe(true);
  });

  it('resolves names and existing task ids, in any case, once each', () => {
    const result = checkBatchDag(
      [step('a', EXISTING.toUpperCase()), step('b', 'a', 'a'), step('c', 'a', 'b', EXISTING)],
      new Set([EXISTING]),
      500,
    );
    expect(result).toEqual({
      ok: true,
      order: [0, 1, 2],
      dependencies: [
        { steps: [], external: [EXISTING] },
        { steps: [0], external: [] },
        { steps: [0, 1], external: [EXISTING] },
      ],
    });
  });

  it('orders a 500-deep chain given backwards without overflowing', () => {
    const steps = Array.from({ length: 500 }, (_, index) =>
      index === 499 ? step('s499') : step(`s${index}`, `s${index + 1}`),
    );
    const result = checkBatchDag(steps, new Set(), 500);
    expect(result.ok && result.order).toEqual(Array.from({ length: 500 }, (_, index) => 499 - index));
  });
});

describe('findCycle and topologicalOrder', () => {
  it.each<[string, number[][], number[] | null]>([
    ['no edges', [[], [], []], null],
    ['a diamond', [[], [0], [0], [1, 2]], null],
    ['a back edge in a long path', [[], [0], [1], [2, 4], [3]], [3, 4]],
  ])('%s', (_, graph, cycle) => {
    expect(findCycle(graph)).toEqual(cycle);
  });

  it.each<[string, number[][], number[]]>([
    ['independent steps in request order', [[], [], []], [0, 1, 2]],
    ['a diamond', [[], [0], [0], [1, 2]], [0, 1, 2, 3]],
    ['dependencies listed after their dependents', [[2], [0], []], [2, 0, 1]],
  ])('orders %s', (_, graph, order) => {
    expect(topologicalOrder(graph)).toEqual(order);
  });
});

describe('externalReferences', () => {
  it('lists the task ids that are not step names, once, in lower case', () => {
    expect(externalReferences([step('a', EXISTING), step('b', 'a', EXISTING.toUpperCase(), 'zzz')])).toEqual([
      EXISTING,
    ]);
  });
});
