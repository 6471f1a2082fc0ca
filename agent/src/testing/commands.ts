import { randomUUID } from 'node:crypto';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  CANCEL_TASK,
  CANCEL_TASK_SCHEMA_VERSION,
  type CancelTask,
} from '@meridian/contracts/messages/cancel-task';
import {
  EXECUTE_TASK,
  EXECUTE_TASK_SCHEMA_VERSION,
  type ExecuteTask,
} from '@meridian/contracts/messages/execute-task';

/** Test helpers: commands as the control plane would send them. */
export function executeTask(nodeId: string, overrides: Partial<ExecuteTask> = {}) {
  const timeoutSeconds = overrides.timeoutSeconds ?? 60;
  const payload: ExecuteTask = {
    taskId: randomUUID(),
    executionId: randomUUID(),
    attempt: 1,
    orgId: 'org-test',
    type: 'Echo',
    target: { type: 'node', id: nodeId },
    payload: {},
    timeoutSeconds,
    deadline: new Date(Date.now() + timeoutSeconds * 1000).toISOString(),
    ...overrides,
  };
  return buildEnvelope(EXECUTE_TASK, EXECUTE_TASK_SCHEMA_VERSION, fieldsFor(nodeId), payload);
}

export function cancelTask(
  nodeId: string,
  target: Pick<CancelTask, 'taskId' | 'executionId'>,
  gracePeriodSeconds = 5,
) {
  const payload: CancelTask = { ...target, reason: 'cancelled by a test', gracePeriodSeconds };
  return buildEnvelope(CANCEL_TASK, CANCEL_TASK_SCHEMA_VERSION, fieldsFor(nodeId), payload);
}

function fieldsFor(nodeId: string) {
  return { messageId: randomUUID(), occurredAt: new Date(), correlationId: `test-${randomUUID()}`, nodeId };
}
