import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '@meridian/contracts/api/task';
import { decidingStatus } from './pause-request.js';

describe('decidingStatus', () => {
  it.each<[TaskStatus, TaskStatus | null, boolean, TaskStatus, TaskStatus | null]>([
    // status, pausedFrom, pause requested → deciding status, pausedFrom
    ['Running', null, true, 'Running', null],
    ['Scheduled', null, true, 'Scheduled', null],
    ['Completed', null, true, 'Paused', 'Completed'],
    ['Failed', null, true, 'Paused', 'Failed'],
    ['Timeout', null, true, 'Paused', 'Timeout'],
    ['Retrying', null, true, 'Paused', 'Retrying'],
    ['Completed', null, false, 'Completed', null],
    ['Paused', 'Pending', false, 'Paused', 'Pending'],
    ['Cancelled', null, true, 'Cancelled', null],
  ])(
    '%s (paused from %s), pause requested %s → %s (paused from %s)',
    (status, pausedFrom, requested, to, from) => {
      expect(decidingStatus({ status, pausedFrom }, requested)).toEqual({ status: to, pausedFrom: from });
    },
  );
});
