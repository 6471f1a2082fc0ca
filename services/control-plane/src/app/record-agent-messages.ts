import type { EntityManager } from 'typeorm';
import {
  isExecutionReport,
  type AgentMessage,
  type CommandRejectedMessage,
  type ExecutionReport,
} from '@meridian/contracts/messages/agent-message';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import { decideReport } from '../domain/execution-report.js';
import { decideExecutionSender, type AcceptedSender, type SenderClaim } from '../domain/sender-decision.js';
import { lockExecutionsWithTasks, type LockedExecution } from '../persistence/execution-with-task.js';
import {
  DISPATCH_CHANNEL,
  OUTBOX_CHANNEL,
  notifyDispatchers,
  outboxPart,
  type NewOutboxMessage,
} from '../persistence/outbox.writes.js';
import {
  executionUpdatesPart,
  taskUpdatesPart,
  type ExecutionUpdate,
  type TaskUpdate,
} from '../persistence/report.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import { taskEventsPart, type NewTaskEvent } from '../persistence/task-event.writes.js';
import type { AppDeps } from './app-deps.js';
import { lateReportCancel } from './late-report-cancel.js';
import { recordCommandRejections } from './record-command-rejections.js';
import { recordHeartbeats } from './record-heartbeats.js';
import { recordServerReports } from './record-server-reports.js';
import { anonymously, executionOwners, resolveSenders, type Received } from './resolve-senders.js';
import { effectsOfLateReport, effectsOfReport, type RowChanges } from './report-effects.js';
import { maxRetriesReachedEvent } from './retry-events.js';

export type RecordOutcome = 'applied' | 'ignored' | 'duplicate' | 'refused';

export interface RecordResult {
  messageId: string;
  outcome: RecordOutcome;
  /** Why an `ignored` message changed nothing, or why a `refused` one was not heard. */
  reason?: string;
}

type ExecutionMessage = ExecutionReport | CommandRejectedMessage;

/**
 * Applies a batch of agent messages whose senders nobody vouches for (the shared login of a
 * version-1 agent): see `recordReceivedMessages`.
 */
export function recordAgentMessages(
  deps: AppDeps,
  messages: readonly AgentMessage[],
): Promise<RecordResult[]> {
  return recordReceivedMessages(deps, anonymously(messages));
}

/**
 * Applies a batch of agent messages in one transaction. First each message's sender is checked
 * (resolve-senders.ts): a message its sender may not send is `refused` and changes nothing, not
 * even the dedupe table or a sequence. Then: dedupe by messageId, heartbeats upserted (an enrolled
 * node's in its credential's organisation) with the servers they report (their state changes
 * queued as events), each execution's reports applied in the order of the agent's sequence
 * numbers with the execution and task rows locked, command refusals recorded. Reports that change
 * nothing are recorded with the reason.
 */
export async function recordReceivedMessages(
  deps: AppDeps,
  received: readonly Received<AgentMessage>[],
): Promise<RecordResult[]> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const decisions = await resolveSenders(
      manager,
      received.map(({ message, sender }) => ({ sender, claim: claimOf(message) })),
      deps.security.requireEnrollment,
    );
    const refused = new Map<number, RecordResult>();
    const results = new Map<string, RecordResult>();
    const beats: { heartbeat: AgentHeartbeat; occurredAt: Date }[] = [];
    const about: { message: ExecutionMessage; sender: AcceptedSender; index: number }[] = [];
    const firstCopy = new Map<string, number>(); // copies of one message in a batch are applied once
    received.forEach(({ message }, index) => {
      const decision = decisions[index]!;
      if (decision.kind === 'refused') {
        refused.set(index, { messageId: message.messageId, outcome: 'refused', reason: decision.reason });
        return;
      }
      if (firstCopy.has(message.messageId)) return;
      firstCopy.set(message.messageId, index);
      if (message.type === 'AgentHeartbeat') {
        const heartbeat = { ...message.payload, orgId: decision.orgId ?? message.payload.orgId };
        beats.push({ heartbeat, occurredAt: new Date(message.occurredAt) });
        results.set(message.messageId, { messageId: message.messageId, outcome: 'applied' });
      } else {
        about.push({ message, sender: decision, index });
      }
    });
    const changedNodes = await recordHeartbeats(manager, beats, now, deps.defaults.maxConcurrentTasksPerNode);
    await recordServerReports(deps, manager, beats, changedNodes, now);
    const heard = await refuseOthersExecutions(manager, about, refused);
    const fresh = await claimMessageIds(
      manager,
      heard.map((item) => item.message),
    );
    for (const { message } of heard) {
      if (!fresh.has(message.messageId)) {
        results.set(message.messageId, { messageId: message.messageId, outcome: 'duplicate' });
      }
    }
    const freshItems = heard.filter(({ message }) => fresh.has(message.messageId));
    const reports = freshItems.flatMap(({ message }) => (isExecutionReport(message) ? [message] : []));
    const rejections = freshItems.flatMap((item) =>
      item.message.type === 'CommandRejected' ? [{ message: item.message, sender: item.sender }] : [],
    );
    const locked = await lockExecutionsWithTasks(manager, [
      ...new Set([
        ...reports.map((r) => r.payload.executionId),
        ...rejections.flatMap((r) => (r.message.payload.executionId ? [r.message.payload.executionId] : [])),
      ]),
    ]);
    await applyReports(deps, manager, reports, locked, now, results);
    await recordCommandRejections(deps, manager, rejections, locked, now, results);
    await markIgnored(manager, [...results.values()]);
    // Finished executions notified with their writes; new or changed nodes may take work too.
    if (changedNodes.length > 0) await notifyDispatchers(manager);
    return received.map(
      ({ message }, index) =>
        refused.get(index) ??
        refused.get(firstCopy.get(message.messageId)!) ??
        results.get(message.messageId) ?? { messageId: message.messageId, outcome: 'duplicate' },
    );
  });
}

/** What a message says about who sent it: its envelope's node, and a heartbeat's node and org. */
function claimOf(message: AgentMessage): SenderClaim {
  if (message.type !== 'AgentHeartbeat') return { nodeId: message.nodeId };
  return { nodeId: message.nodeId, payloadNodeId: message.payload.nodeId, orgId: message.payload.orgId };
}

/**
 * Refuses the messages about an execution that the sender's node does not run, before anything of
 * them is written (their ids are not claimed, no sequence moves); returns the others.
 */
async function refuseOthersExecutions<
  T extends { message: ExecutionMessage; sender: AcceptedSender; index: number },
>(manager: EntityManager, items: readonly T[], refused: Map<number, RecordResult>): Promise<T[]> {
  const executionIdOf = (message: ExecutionMessage) => message.payload.executionId;
  const owners = await executionOwners(
    manager,
    items.flatMap(({ message }) => {
      const id = executionIdOf(message);
      return id ? [id] : [];
    }),
  );
  return items.filter(({ message, sender, index }) => {
    const executionId = executionIdOf(message);
    if (!executionId) return true;
    const decision = decideExecutionSender(sender, executionId, owners.get(executionId) ?? null);
    if (decision.kind === 'accepted') return true;
    refused.set(index, { messageId: message.messageId, outcome: 'refused', reason: decision.reason });
    return false;
  });
}

/** Inserts the dedupe rows; returns the ids that were new. A second delivery finds its row. */
async function claimMessageIds(
  manager: EntityManager,
  messages: readonly ExecutionMessage[],
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const rows: { message_id: string }[] = await manager.query(
    `INSERT INTO processed_messages (message_id, type, node_id, outcome)
     SELECT *, 'applied' FROM unnest($1::uuid[], $2::text[], $3::text[])
     ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
    [messages.map((m) => m.messageId), messages.map((m) => m.type), messages.map((m) => m.nodeId)],
  );
  return new Set(rows.map((row) => row.message_id));
}

async function applyReports(
  deps: AppDeps,
  manager: EntityManager,
  reports: readonly ExecutionReport[],
  locked: ReadonlyMap<string, LockedExecution>,
  now: Date,
  results: Map<string, RecordResult>,
): Promise<void> {
  const ordered = [...reports].sort(
    (a, b) =>
      a.payload.executionId.localeCompare(b.payload.executionId) || a.payload.sequence - b.payload.sequence,
  );
  const changes = new Map<string, RowChanges>();
  const events: NewTaskEvent[] = [];
  const cancels: NewOutboxMessage[] = [];
  let released = false;
  for (const report of ordered) {
    const execution = locked.get(report.payload.executionId);
    if (!execution || execution.taskId !== report.payload.taskId) {
      results.set(report.messageId, {
        messageId: report.messageId,
        outcome: 'ignored',
        reason: 'unknown execution',
      });
      continue;
    }
    const decision = decideReport(
      report,
      execution,
      {
        status: execution.taskStatus,
        retryCount: execution.retryCount,
        maxRetries: execution.maxRetries,
        retryPolicy: execution.retryPolicy,
      },
      {
        now,
        random: deps.random(),
        retryPolicy: deps.retryPolicy,
      },
    );
    if (decision.kind === 'ignored') {
      results.set(report.messageId, {
        messageId: report.messageId,
        outcome: 'ignored',
        reason: decision.reason,
      });
      events.push({
        orgId: execution.orgId,
        taskId: execution.taskId,
        executionId: execution.id,
        type: 'ReportIgnored',
        actor: `node:${report.nodeId}`,
        correlationId: report.correlationId,
        messageId: report.messageId,
        data: { report: report.type, sequence: report.payload.sequence, reason: decision.reason },
        occurredAt: new Date(report.occurredAt),
      });
      if (decision.cancelExecution) cancels.push(lateReportCancel(deps, execution, report, now));
      continue;
    }
    const rowChanges = changes.get(execution.id) ?? { execution: {}, task: {} };
    changes.set(execution.id, rowChanges);
    if (decision.kind === 'late') {
      if (report.type === 'TaskAccepted' || report.type === 'TaskStarted') {
        events.push(effectsOfLateReport(report, execution, rowChanges));
      }
      results.set(report.messageId, { messageId: report.messageId, outcome: 'applied' });
      continue;
    }
    const event = effectsOfReport(report, decision, execution, rowChanges, now, deps.defaults.outputMaxBytes);
    events.push(event);
    if (decision.maxRetriesReached) events.push(maxRetriesReachedEvent(execution, event, report.type));
    released ||= decision.execution.release;
    results.set(report.messageId, { messageId: report.messageId, outcome: 'applied' });
  }
  const executionUpdates: ExecutionUpdate[] = [];
  const taskUpdates = new Map<string, TaskUpdate>();
  for (const [executionId, rowChanges] of changes) {
    const execution = locked.get(executionId)!;
    executionUpdates.push({
      ...rowChanges.execution,
      id: executionId,
      status: execution.status,
      lastSequence: execution.lastSequence,
    });
    if (Object.keys(rowChanges.task).length > 0) {
      taskUpdates.set(execution.taskId, {
        ...taskUpdates.get(execution.taskId),
        ...rowChanges.task,
        id: execution.taskId,
      });
    }
  }
  const writes = new WriteBatch()
    .add(executionUpdatesPart(executionUpdates))
    .add(taskUpdatesPart([...taskUpdates.values()]))
    .add(taskEventsPart(events))
    .add(outboxPart(cancels));
  if (released) writes.notify(DISPATCH_CHANNEL);
  if (cancels.length > 0) writes.notify(OUTBOX_CHANNEL);
  await writes.run(manager);
}

async function markIgnored(manager: EntityManager, results: readonly RecordResult[]): Promise<void> {
  const ignored = results.filter((r) => r.outcome === 'ignored');
  if (ignored.length === 0) return;
  await manager.query(
    `UPDATE processed_messages p SET outcome = 'ignored', reason = u.reason
       FROM unnest($1::uuid[], $2::text[]) AS u(message_id, reason) WHERE p.message_id = u.message_id`,
    [ignored.map((r) => r.messageId), ignored.map((r) => r.reason ?? null)],
  );
}
