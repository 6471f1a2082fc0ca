import { createRoute } from '@hono/zod-openapi';
import {
  PauseTaskBodySchema,
  RescheduleBodySchema,
  RescheduleResponseSchema,
} from '@meridian/contracts/api/reschedule';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses, Task, TaskIdParams } from '../openapi-schemas.js';
import { RateLimitHeadersDoc } from '../rate-limit-headers.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

export const RescheduleBody = RescheduleBodySchema.openapi('RescheduleBody');
export const RescheduleResponse = RescheduleResponseSchema.openapi('RescheduleResponse');
export const PauseTaskBody = PauseTaskBodySchema.openapi('PauseTaskBody');

export const rescheduleTaskRoute = createRoute({
  method: 'put',
  path: '/tasks/{id}/reschedule',
  operationId: 'rescheduleTask',
  tags: ['Tasks'],
  summary: 'Re-time a task’s next run, or give it a cron schedule',
  description:
    'Permission `task:reschedule`. `immediate`, `delayed` (`delay`: "90s", "5m", "2h", "1d" or an ISO-8601 ' +
    'duration) and `exponential_backoff` (min(maxDelay, baseDelay × 2^currentRetryCount), ±10 % jitter, ' +
    'never above maxDelay) start one run at now + delay: a waiting run (Pending, Retrying) is re-timed, a ' +
    'finished task (Completed, Failed, Timeout) starts a new run; 409 while an execution is out, while ' +
    'paused, or once cancelled. `cron` (`expression` of 5 fields, or 6 with seconds first; IANA ' +
    '`timezone`, UTC by default) starts a run at every occurrence while the task is idle, until ' +
    'rescheduled or cancelled; it does not change the status. Records `TaskRescheduled`.',
  security: bearerSecurity,
  ...requiresPermission('task:reschedule'),
  request: { params: TaskIdParams, body: { required: true, content: json(RescheduleBody) } },
  responses: {
    200: {
      description: 'When the next run starts, and the schedule it replaced',
      headers: RateLimitHeadersDoc,
      content: json(RescheduleResponse),
    },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const pauseTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/{id}/pause',
  operationId: 'pauseTask',
  tags: ['Tasks'],
  summary: 'Pause a task: it starts no run (triggered, rescheduled or cron) until resumed',
  description:
    'Permission `task:reschedule`. A task with no execution out (Pending, Retrying, Completed, Failed, ' +
    'Timeout) becomes Paused at once (`TaskPaused`). A Scheduled or Running one keeps its execution ' +
    'running: the pause is requested (`pauseRequested: true`, `TaskPauseRequested`) and takes effect ' +
    'when that execution ends. 409 when already paused or a pause is already requested, or once ' +
    'cancelled.',
  security: bearerSecurity,
  ...requiresPermission('task:reschedule'),
  request: { params: TaskIdParams, body: { required: false, content: json(PauseTaskBody) } },
  responses: {
    200: { description: 'The task, Paused or with its pause requested', content: json(Task) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export const resumeTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/{id}/resume',
  operationId: 'resumeTask',
  tags: ['Tasks'],
  summary: 'Resume a paused task, or withdraw a requested pause',
  description:
    'Permission `task:reschedule`. A Paused task returns to the status it was paused in (`TaskResumed`); ' +
    'a cron schedule goes on from its first occurrence after now (occurrences during the pause are ' +
    'skipped). On a task whose pause is only requested, the request is withdrawn. 409 otherwise.',
  security: bearerSecurity,
  ...requiresPermission('task:reschedule'),
  request: { params: TaskIdParams, body: { required: false, content: json(PauseTaskBody) } },
  responses: {
    200: { description: 'The resumed task', content: json(Task) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});
