import { describe, expect, it } from 'vitest';
import type { RescheduleBody } from '@meridian/contracts/api/reschedule';
import { InvalidFieldError } from './errors.js';
import { planReschedule } from './reschedule-plan.js';

const now = new Date('2026-06-01T12:00:00.000Z');

describe('planReschedule', () => {
  it.each<[RescheduleBody, number, ReturnType<typeof planReschedule>]>([
    [{ strategy: 'immediate' }, 0.5, { kind: 'once', strategy: 'immediate', delayMs: 0 }],
    [{ strategy: 'delayed', delay: '2s' }, 0.5, { kind: 'once', strategy: 'delayed', delayMs: 2000 }],
    [
      { strategy: 'exponential_backoff', baseDelay: '1m', maxDelay: '1h', currentRetryCount: 2 },
      0.5,
      { kind: 'once', strategy: 'exponential_backoff', delayMs: 240_000 },
    ],
    [
      { strategy: 'exponential_backoff', baseDelay: 'PT1M', maxDelay: 'PT1H', currentRetryCount: 2 },
      0,
      { kind: 'once', strategy: 'exponential_backoff', delayMs: 216_000 },
    ],
    [
      { strategy: 'cron', expression: '0 * * * *', timezone: 'Europe/London' },
      0.5,
      {
        kind: 'cron',
        strategy: 'cron',
        schedule: { strategy: 'cron', expression: '0 * * * *', timezone: 'Europe/London' },
        next: new Date('2026-06-01T13:00:00.000Z'),
      },
    ],
  ])('%j (random %f) → %j', (body, random, plan) => {
    expect(planReschedule(body, now, () => random)).toEqual(plan);
  });

  it.each<[RescheduleBody, string]>([
    [{ strategy: 'delayed', delay: '0s' }, 'delay'],
    [{ strategy: 'delayed', delay: 'P1M' }, 'delay'],
    [{ strategy: 'exponential_backoff', baseDelay: 'x', maxDelay: '1h', currentRetryCount: 0 }, 'baseDelay'],
    [{ strategy: 'exponential_backoff', baseDelay: '1m', maxDelay: 'x', currentRetryCount: 0 }, 'maxDelay'],
    [{ strategy: 'exponential_backoff', baseDelay: '1h', maxDelay: '1m', currentRetryCount: 0 }, 'maxDelay'],
    [{ strategy: 'cron', expression: '* * *', timezone: 'UTC' }, 'expression'],
    [{ strategy: 'cron', expression: '* * * * *', timezone: 'Nowhere/City' }, 'timezone'],
  ])('refuses %j naming %s', (body, field) => {
    let thrown: unknown;
    try {
      planReschedule(body, now, () => 0.5);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidFieldError);
    expect((thrown as InvalidFieldError).field).toBe(field);
  });
});
