import { describe, expect, it } from 'vitest';
import type { BatchFailurePolicy, BatchStatus } from '@meridian/contracts/api/batch';
import type { TaskStatus } from '@meridian/contracts/api/task';
import {
  compensationOrder,
  planSaga,
  type SagaCompensation,
  type SagaSnapshot,
  type SagaStep,
} from './batch-saga.js';

const T0 = new Date('2026-06-01T12:00:00.000Z');
const NOW = new Date('2026-06-01T12:01:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** `name:Status` or `name:Status@seconds` (completion time), depending on the listed names. */
function step(spec: string, ...dependsOn: string[]): SagaStep {
  const [name, rest] = spec.split(':') as [string, string];
  const [status, seconds] = rest.split('@') as [TaskStatus, string | undefined];
  const cancelledByBatch = status === 'Cancelled' && name.endsWith('!');
  return {
    id: name.replace('!', ''),
    name: name.replace('!', ''),
    status,
    position: 0,
    cancelledByBatch,
    completedAt: seconds === undefined ? null : at(Number(seconds)),
    dependsOn,
  };
}

function compensation(
  name: string,
  of: string,
  status: TaskStatus = 'Created',
  position = 0,
): SagaCompensation {
  return { id: name, name, status, position, cancelledByBatch: false, completedAt: null, compensatesId: of };
}

function snapshot(
  steps: SagaStep[],
  options: {
    status?: BatchStatus;
    policy?: BatchFailurePolicy;
    compensations?: SagaCompensation[];
    external?: Record<string, TaskStatus>;
    woken?: string[];
  } = {},
): SagaSnapshot {
  return {
    status: options.status ?? 'Running',
    failurePolicy: options.policy ?? 'cancel-dependents',
    createdAt: T0,
    steps: steps.map((s, index) => ({ ...s, position: index })),
    compensations: options.compensations ?? [],
    externalStatus: new Map(Object.entries(options.external ?? {})),
    finishedTaskIds: options.woken ?? [],
  };
}

const ids = (cancel: { id: string }[]) => cancel.map((c) => c.id).sort();

describe('planSaga while the steps run', () => {
  it.each<
    [
      string,
      SagaSnapshot,
      { release: string[]; cancel: string[]; status: BatchStatus | null; events: string[] },
    ]
  >([
    [
      'a completion releases the dependents whose dependencies all completed',
      snapshot(
        [step('a:Completed@1'), step('b:Created', 'a'), step('c:Created', 'a'), step('d:Created', 'b', 'c')],
        {
          woken: ['a'],
        },
      ),
      { release: ['b', 'c'], cancel: [], status: null, events: ['StepCompleted', 'ViableStepsDiscovered'] },
    ],
    [
      'one of two dependencies completed releases nothing',
      snapshot(
        [
          step('a:Completed@1'),
          step('b:Completed@2', 'a'),
          step('c:Running', 'a'),
          step('d:Created', 'b', 'c'),
        ],
        {
          woken: ['b'],
        },
      ),
      { release: [], cancel: [], status: null, events: ['StepCompleted'] },
    ],
    [
      'every step completed ends the batch Completed and cancels the compensations',
      snapshot([step('a:Completed@1'), step('b:Completed@2', 'a')], {
        woken: ['b'],
        compensations: [compensation('undo-a', 'a')],
      }),
      { release: [], cancel: ['undo-a'], status: 'Completed', events: ['StepCompleted', 'BatchCompleted'] },
    ],
    [
      'an external dependency completed counts like a step',
      snapshot([step('a:Created', 'ext')], { external: { ext: 'Completed' } }),
      { release: ['a'], cancel: [], status: null, events: ['ViableStepsDiscovered'] },
    ],
    [
      'an unfinished external dependency keeps the step waiting',
      snapshot([step('a:Created', 'ext')], { external: { ext: 'Running' } }),
      { release: [], cancel: [], status: null, events: ['NoViableSteps'] },
    ],
    [
      'cancel-dependents: a failure cancels every waiting step, running ones go on',
      snapshot(
        [
          step('a:Completed@1'),
          step('b:Failed', 'a'),
          step('c:Running', 'a'),
          step('d:Created', 'b'),
          step('e:Created', 'c'),
        ],
        { woken: ['b'] },
      ),
      { release: [], cancel: ['d', 'e'], status: null, events: ['StepFailed', 'NoViableSteps'] },
    ],
    [
      'continue: a failure cancels only its transitive dependents, the independent branch is released',
      snapshot(
        [
          step('a:Completed@1'),
          step('b:Failed', 'a'),
          step('c:Completed@2', 'a'),
          step('d:Created', 'b'),
          step('e:Created', 'd'),
          step('f:Created', 'c'),
        ],
        { policy: 'continue', woken: ['b', 'c'] },
      ),
      {
        release: ['f'],
        cancel: ['d', 'e'],
        status: null,
        events: ['StepFailed', 'StepCompleted', 'NoViableSteps', 'ViableStepsDiscovered'],
      },
    ],
    [
      'a failed external dependency dooms its dependents',
      snapshot([step('a:Completed@1'), step('b:Created', 'a', 'ext')], {
        external: { ext: 'Failed' },
        woken: [],
      }),
      { release: [], cancel: ['b'], status: 'Failed', events: ['NoViableSteps', 'BatchFailed'] },
    ],
    [
      'a user cancel of a step is a failure; once nothing runs, compensations start with the last completed step',
      snapshot([step('a:Completed@1'), step('b:Completed@5'), step('c:Cancelled', 'a', 'b')], {
        woken: ['c'],
        compensations: [compensation('undo-a', 'a'), compensation('undo-b', 'b')],
      }),
      {
        release: ['undo-b'],
        cancel: [],
        status: 'Compensating',
        events: ['StepFailed', 'CompensationStarted'],
      },
    ],
    [
      'a step the batch cancelled is no failure and records nothing',
      snapshot([step('a:Failed'), step('b!:Cancelled', 'a')], { woken: ['b'] }),
      { release: [], cancel: [], status: 'Failed', events: ['BatchFailed'] },
    ],
    [
      'a failure with no compensation ends the batch Failed',
      snapshot([step('a:Completed@1'), step('b:Timeout', 'a')], { woken: ['b'] }),
      { release: [], cancel: [], status: 'Failed', events: ['StepFailed', 'BatchFailed'] },
    ],
  ])('%s', (_, input, expected) => {
    const plan = planSaga(input, NOW);
    expect(plan.release.sort()).toEqual(expected.release);
    expect(ids(plan.cancel)).toEqual(expected.cancel);
    expect(plan.status).toBe(expected.status);
    expect(plan.events.map((event) => event.type)).toEqual(expected.events);
  });

  it('reports the counts the seed names', () => {
    const plan = planSaga(
      snapshot([step('a:Completed@1'), step('b:Completed@2', 'a'), step('c:Created', 'b')], { woken: ['b'] }),
      NOW,
    );
    expect(plan.events).toEqual([
      { type: 'StepCompleted', taskId: 'b', data: { step: 'b', remainingSteps: 1 } },
      { type: 'ViableStepsDiscovered', data: { stepIds: ['c'], steps: ['c'], batchSize: 1 } },
    ]);
    expect(plan.stepEvents.map((event) => event.taskId)).toEqual(['b']);
    const done = planSaga(snapshot([step('a:Completed@1')], { woken: ['a'] }), NOW);
    expect(done.events[1]).toEqual({
      type: 'BatchCompleted',
      data: { totalDurationMs: 60_000, successRate: 1 },
    });
  });

  it('is idempotent: the plan for a state already applied does nothing', () => {
    const plan = planSaga(snapshot([step('a:Completed@1'), step('b:Pending', 'a')]), NOW);
    expect(plan).toEqual({ release: [], cancel: [], status: null, events: [], stepEvents: [] });
  });
});

describe('planSaga while compensating', () => {
  const steps = [
    step('stop:Completed@1'),
    step('backup:Completed@2', 'stop'),
    step('update:Failed', 'backup'),
  ];
  const order = (statuses: TaskStatus[]) => [
    compensation('undo-stop', 'stop', statuses[0], 0),
    compensation('undo-backup', 'backup', statuses[1], 1),
  ];

  it.each<[string, TaskStatus[], { release: string[]; cancel: string[]; status: BatchStatus | null }]>([
    ['waits for the running compensation', ['Created', 'Running'], { release: [], cancel: [], status: null }],
    [
      'starts the next one in reverse order',
      ['Created', 'Completed'],
      { release: ['undo-stop'], cancel: [], status: null },
    ],
    [
      'ends Compensated when all completed',
      ['Completed', 'Completed'],
      { release: [], cancel: [], status: 'Compensated' },
    ],
    [
      'goes on after a failed one',
      ['Created', 'Failed'],
      { release: ['undo-stop'], cancel: [], status: null },
    ],
    ['ends Failed when one failed', ['Completed', 'Failed'], { release: [], cancel: [], status: 'Failed' }],
  ])('%s', (_, statuses, expected) => {
    const plan = planSaga(snapshot(steps, { status: 'Compensating', compensations: order(statuses) }), NOW);
    expect(plan.release).toEqual(expected.release);
    expect(ids(plan.cancel)).toEqual(expected.cancel);
    expect(plan.status).toBe(expected.status);
  });

  it('orders by completion, latest first, and each step’s compensations in request order', () => {
    const input = snapshot([step('a:Completed@9'), step('b:Completed@3'), step('c:Failed')], {
      compensations: [
        compensation('a1', 'a', 'Created', 0),
        compensation('a2', 'a', 'Created', 1),
        compensation('b1', 'b', 'Created', 2),
        compensation('c1', 'c', 'Created', 3),
      ],
    });
    expect(compensationOrder(input).map((c) => c.name)).toEqual(['a1', 'a2', 'b1']);
  });
});

describe('planSaga on an ended batch', () => {
  it.each<BatchStatus>(['Completed', 'Failed', 'Compensated', 'Cancelled'])(
    '%s: only cancels what still waits',
    (status) => {
      const plan = planSaga(
        snapshot([step('a:Completed@1'), step('b:Created', 'a')], {
          status,
          compensations: [compensation('u', 'a')],
          woken: ['a'],
        }),
        NOW,
      );
      expect(plan).toMatchObject({ release: [], status: null, events: [] });
      expect(ids(plan.cancel)).toEqual(['b', 'u']);
    },
  );
});
