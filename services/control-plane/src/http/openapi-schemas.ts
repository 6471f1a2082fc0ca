import { z } from '@hono/zod-openapi';
import { ExecutionListSchema, ExecutionSchema } from '@meridian/contracts/api/execution';
import { NodeListSchema, NodeSchema } from '@meridian/contracts/api/node';
import { NodeServerListSchema, NodeServerSchema } from '@meridian/contracts/api/node-server';
import { ProblemSchema } from '@meridian/contracts/api/problem';
import {
  CancelTaskBodySchema,
  CreateTaskBodySchema,
  ListTasksQuerySchema,
  TaskListSchema,
  TaskSchema,
} from '@meridian/contracts/api/task';
import { TaskEventListSchema } from '@meridian/contracts/api/task-event';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { RateLimitHeadersDoc } from './rate-limit-headers.js';

/*
 * The contract schemas under the names they get in `components.schemas` of the OpenAPI document.
 * `.openapi()` is added to every zod schema when `@hono/zod-openapi` is loaded.
 */
export const Task = TaskSchema.openapi('Task');
export const TaskList = TaskListSchema.openapi('TaskList');
export const CreateTaskBody = CreateTaskBodySchema.openapi('CreateTaskBody');
export const CancelTaskBody = CancelTaskBodySchema.openapi('CancelTaskBody');
export const TaskEventList = TaskEventListSchema.openapi('TaskEventList');
export const Execution = ExecutionSchema.openapi('Execution');
export const ExecutionList = ExecutionListSchema.openapi('ExecutionList');
export const Node = NodeSchema.openapi('Node');
export const NodeList = NodeListSchema.openapi('NodeList');
// Rebuilt with this module's `z`: the contract schemas may be created before `@hono/zod-openapi`
// is loaded (the heartbeat path imports them), and zod 4 gives `.openapi` only to schemas made after.
export const NodeServer = z.object(NodeServerSchema.shape).openapi('NodeServer');
export const NodeServerList = z
  .object({ ...NodeServerListSchema.shape, items: z.array(NodeServer) })
  .openapi('NodeServerList');
export const ProblemDocument = ProblemSchema.openapi('Problem');

export const PageQuery = ListTasksQuerySchema.pick({ page: true, limit: true });

export const TaskIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Task id (UUID)' }),
});

export const BEARER_AUTH = 'bearerAuth';
/** `security` of every `/api/v1` operation. */
export const bearerSecurity = [{ [BEARER_AUTH]: [] }];

function problem(description: string) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDocument } } };
}

const PROBLEM_RESPONSES = {
  400: problem('Invalid request; `errors` names each failing field'),
  401: problem('Missing, invalid or expired bearer token'),
  403: problem('The token lacks the permission this operation needs'),
  404: problem('No such resource in the organisation of the caller'),
  409: problem('The task is not in a state that allows this'),
  422: problem('Well-formed but not acceptable'),
  429: {
    ...problem(
      'A trigger rate limit is reached (`detail` names it); nothing of the call was done or counted',
    ),
    headers: RateLimitHeadersDoc.extend({
      'Retry-After': z.string().openapi({ description: 'Seconds until the window of that limit ends' }),
    }),
  },
};

/** The `application/problem+json` responses an operation documents, by status. */
export function problemResponses<S extends keyof typeof PROBLEM_RESPONSES>(
  ...statuses: S[]
): Pick<typeof PROBLEM_RESPONSES, S> {
  const picked: Partial<typeof PROBLEM_RESPONSES> = {};
  for (const status of statuses) picked[status] = PROBLEM_RESPONSES[status];
  return picked as Pick<typeof PROBLEM_RESPONSES, S>;
}
