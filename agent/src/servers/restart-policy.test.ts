import { describe, expect, it } from 'vitest';
import type { RestartPolicy } from '@meridian/contracts/task-types/server-spec';
import { decideAfterExit, isActiveState, STABLE_UPTIME_MS, type ExitDecision } from './restart-policy.js';

const never: RestartPolicy = { type: 'never' };
const onFailure = (maxRestarts: number, backoffSeconds: number): RestartPolicy => ({
  type: 'on-failure',
  maxRestarts,
  backoffSeconds,
});
const crash = { exitCode: 1, exitSignal: null, stopRequested: false, uptimeMs: 1_000 };

describe('decideAfterExit', () => {
  it.each<[string, Parameters<typeof decideAfterExit>[0], ExitDecision]>([
    [
      'a stop asked for',
      { ...crash, policy: onFailure(3, 5), restarts: 2, stopRequested: true },
      { state: 'stopped', restarts: 2 },
    ],
    [
      'killed after a stop asked for',
      { ...crash, policy: never, restarts: 0, exitCode: null, exitSignal: 'SIGKILL', stopRequested: true },
      { state: 'stopped', restarts: 0 },
    ],
    [
      'a clean exit on its own',
      { ...crash, policy: onFailure(3, 5), restarts: 1, exitCode: 0 },
      { state: 'stopped', restarts: 1 },
    ],
    ['a crash, policy never', { ...crash, policy: never, restarts: 0 }, { state: 'crashed', restarts: 0 }],
    [
      'killed by a signal, policy never',
      { ...crash, policy: never, restarts: 0, exitCode: null, exitSignal: 'SIGSEGV' },
      { state: 'crashed', restarts: 0 },
    ],
    [
      'first crash',
      { ...crash, policy: onFailure(3, 5), restarts: 0 },
      { state: 'restarting', restarts: 1, delayMs: 5_000 },
    ],
    [
      'second crash: back-off doubled',
      { ...crash, policy: onFailure(3, 5), restarts: 1 },
      { state: 'restarting', restarts: 2, delayMs: 10_000 },
    ],
    [
      'third crash',
      { ...crash, policy: onFailure(3, 5), restarts: 2 },
      { state: 'restarting', restarts: 3, delayMs: 20_000 },
    ],
    ['limit reached', { ...crash, policy: onFailure(3, 5), restarts: 3 }, { state: 'crashed', restarts: 3 }],
    [
      'killed by a signal counts as a crash',
      { ...crash, policy: onFailure(1, 0), restarts: 0, exitCode: null, exitSignal: 'SIGKILL' },
      { state: 'restarting', restarts: 1, delayMs: 0 },
    ],
    [
      'exit status unknown counts as a crash',
      { ...crash, policy: onFailure(1, 0), restarts: 0, exitCode: null, exitSignal: null },
      { state: 'restarting', restarts: 1, delayMs: 0 },
    ],
    [
      'back-off capped at 300 s',
      { ...crash, policy: onFailure(100, 200), restarts: 3 },
      { state: 'restarting', restarts: 4, delayMs: 300_000 },
    ],
    [
      'zero back-off stays zero',
      { ...crash, policy: onFailure(5, 0), restarts: 4 },
      { state: 'restarting', restarts: 5, delayMs: 0 },
    ],
    [
      'up for 10 minutes: counting starts again',
      { ...crash, policy: onFailure(3, 5), restarts: 3, uptimeMs: STABLE_UPTIME_MS },
      { state: 'restarting', restarts: 1, delayMs: 5_000 },
    ],
    [
      'up for just under 10 minutes: limit holds',
      { ...crash, policy: onFailure(3, 5), restarts: 3, uptimeMs: STABLE_UPTIME_MS - 1 },
      { state: 'crashed', restarts: 3 },
    ],
  ])('%s', (_name, facts, expected) => {
    expect(decideAfterExit(facts)).toEqual(expected);
  });
});

describe('isActiveState', () => {
  it.each([
    ['starting', true],
    ['running', true],
    ['stopping', true],
    ['restarting', true],
    ['stopped', false],
    ['crashed', false],
  ] as const)('%s → %s', (state, active) => {
    expect(isActiveState(state)).toBe(active);
  });
});
