import { describe, expect, it } from 'vitest';
import { resolveTemplateDependencies, templateDagField, type TemplateStep } from './template-dag.js';

describe('resolveTemplateDependencies', () => {
  it.each<[string, TemplateStep[], string[][]]>([
    ['no order, no dependsOn: all roots', [{ name: 'a' }, { name: 'b' }], [[], []]],
    [
      'order: after every task of a lower order',
      [
        { name: 'backup', order: 1 },
        { name: 'stop', order: 2 },
        { name: 'notify', order: 2 },
        { name: 'start', order: 3 },
      ],
      [[], ['backup'], ['backup'], ['backup', 'stop', 'notify']],
    ],
    [
      'dependsOn wins over order',
      [
        { name: 'a', order: 1 },
        { name: 'b', order: 2, dependsOn: [] },
        { name: 'c', order: 3, dependsOn: ['b'] },
      ],
      [[], [], ['b']],
    ],
    [
      'a task without order is not after the ordered ones',
      [{ name: 'a', order: 1 }, { name: 'b' }],
      [[], []],
    ],
  ])('%s', (_, steps, expected) => {
    expect(resolveTemplateDependencies(steps).map((step) => step.dependsOn)).toEqual(expected);
  });
});

describe('templateDagField', () => {
  const steps: TemplateStep[] = [
    { name: 'a', order: 1 },
    { name: 'b', dependsOn: ['a'] },
  ];
  it.each([
    ['tasks[0].dependsOn[0]', 'tasks[0].order'],
    ['tasks[1].dependsOn[0]', 'tasks[1].dependsOn[0]'],
    ['tasks[1].name', 'tasks[1].name'],
    ['tasks', 'tasks'],
  ])('%s → %s', (field, expected) => {
    expect(templateDagField(field, steps)).toBe(expected);
  });
});
