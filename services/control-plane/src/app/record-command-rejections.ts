import type { EntityManager } from 'typeorm';
import type { CommandRejectedMessage } from '@meridian/contracts/messages/agent-message';
import { EXECUTE_TASK } from '@meridian/contracts/messages/execute-task';
import type { AcceptedSender } from '../domain/sender-decision.js';
import type { LockedExecution } from '../persistence/execution-with-task.js';
import { nodeEventsPart, type NewNodeEvent } from '../persistence/node-event.writes.js';
import { taskEventsPart, type NewTaskEvent } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { AppDeps } from './app-deps.js';
import { giveUpExecutions } from './give-up-executions.js';
import type { RecordResult } from './record-agent-messages.js';

export const COMMAND_REJECTED_EVENT = 'CommandRejected';

/**
 * Records the commands agents refused (CommandRejected, protocol version 2), from senders already
 * checked to be the node that runs the execution named, if any. Each is a `CommandRejected` node
 * event, and a task event when it names an execution of its task. An ExecuteTask refused while its
 * execution is still Dispatched ends that execution at once (Failed, the task retried per policy,
 * as for a lost node) rather than leave it to its deadline; a `replayed` refusal does not, since
 * the node had accepted that command before. Executions are locked by the caller.
 */
export async function recordCommandRejections(
  deps: AppDeps,
  manager: EntityManager,
  rejections: readonly { message: CommandRejectedMessage; sender: AcceptedSender }[],
  locked: ReadonlyMap<string, LockedExecution>,
  now: Date,
  results: Map<string, RecordResult>,
): Promise<void> {
  const nodeEvents: NewNodeEvent[] = [];
  const taskEvents: NewTaskEvent[] = [];
  const refusedWork = new Map<string, { execution: LockedExecution; message: CommandRejectedMessage }>();
  for (const { message, sender } of rejections) {
    const { payload } = message;
    const actor = `node:${sender.nodeId}`;
    const occurredAt = new Date(message.occurredAt);
    const data = {
      commandMessageId: payload.commandMessageId,
      commandType: payload.commandType,
      code: payload.code,
      reason: payload.reason,
      ...(payload.taskId ? { taskId: payload.taskId } : {}),
      ...(payload.executionId ? { executionId: payload.executionId } : {}),
    };
    const execution = payload.executionId ? locked.get(payload.executionId) : undefined;
    const orgId = sender.orgId ?? execution?.orgId;
    if (!orgId) {
      results.set(message.messageId, {
        messageId: message.messageId,
        outcome: 'ignored',
        reason: 'unknown node',
      });
      continue;
    }
    nodeEvents.push({ orgId, nodeId: sender.nodeId, type: COMMAND_REJECTED_EVENT, actor, data, occurredAt });
    results.set(message.messageId, { messageId: message.messageId, outcome: 'applied' });
    if (!execution || (payload.taskId !== undefined && payload.taskId !== execution.taskId)) continue;
    const endsExecution =
      payload.commandType === EXECUTE_TASK &&
      payload.code !== 'replayed' &&
      execution.status === 'Dispatched' &&
      !refusedWork.has(execution.id);
    if (endsExecution) {
      refusedWork.set(execution.id, { execution, message });
      continue;
    }
    taskEvents.push({
      orgId: execution.orgId,
      taskId: execution.taskId,
      executionId: execution.id,
      type: COMMAND_REJECTED_EVENT,
      actor,
      correlationId: message.correlationId,
      messageId: message.messageId,
      data,
      occurredAt,
    });
  }
  await new WriteBatch().add(nodeEventsPart(nodeEvents)).add(taskEventsPart(taskEvents)).run(manager);
  if (refusedWork.size === 0) return;
  await giveUpExecutions(
    deps,
    manager,
    'CommandRejected',
    [...refusedWork.values()].map(({ execution }) => execution),
    now,
    (execution) => {
      const { payload } = refusedWork.get(execution.id)!.message;
      return { commandMessageId: payload.commandMessageId, code: payload.code, reason: payload.reason };
    },
    // Checked before: the node that refused is the execution's.
    (execution) => `node:${execution.nodeId}`,
  );
}
