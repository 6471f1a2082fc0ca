import type { EntityManager } from 'typeorm';
import type { AgentMessage, ExecutionReport } from '@meridian/contracts/messages/agent-message';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import { decideReport } from '../domain/execution-report.js';
import { lockExecutionsWithTasks } from '../persistence/execution-with-task.js';
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
import { recordHeartbeats } from './record-heartbeats.js';
import { effectsOfLateReport, effectsOfReport, type RowChanges } from './report-effects.js';
import { maxRetriesReachedEvent } from './retry-events.js';

export type RecordOutcome = 'applied' | 'ignored' | 'duplicate';

export interface RecordResult {
  messageId: string;
  outcome: RecordOutcome;
  reason?: string;
}

/**
 * Applies a batch of agent messages in one transaction: dedupe by messageId, heartbeats upserted,
 * each execution's reports applied in the order of the agent's sequence numbers with the execution
 * and task rows locked. Reports that change nothing are recorded with the reason.
 */
export async function recordAgentMessages(
  deps: AppDeps,
  messages: readonly AgentMessage[],
): Promise<RecordResult[]> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const results = new Map<string, RecordResult>();
    const beats: { heartbeat: AgentHeartbeat; occurredAt: Date }[] = [];
    const reports: ExecutionReport[] = [];
    const seen = new Set<string>(); // copies of one message in a batch are applied once
    for (const message of messages) {
      if (seen.has(message.messageId)) continue;
      seen.add(message.messageId);
      if (message.type === 'AgentHeartbeat') {
        beats.push({ heartbeat: message.payload, occurredAt: new Date(message.occurredAt) });
        results.set(message.messageId, { messageId: message.messageId, outcome: 'applied' });
      } else {
        reports.push(message);
      }
    }
    const changedNodes = await recordHeartbeats(manager, beats, now, deps.defaults.maxConcurrentTasksPerNode);
    const fresh = await claimMessageIds(manager, reports);
    for (const report of reports) {
      if (!fresh.has(report.messageId)) {
        results.set(report.messageId, { messageId: report.messageId, outcome: 'duplicate' });
      }
    }
    const freshReports = reports.filter((report) => fresh.has(report.messageId));
    await applyReports(deps, manager, freshReports, now, results);
    await markIgnored(manager, [...results.values()]);
    // Finished executions notified with their writes; new or changed nodes may take work too.
    if (changedNodes.length > 0) await notifyDispatchers(manager);
    return messages.map((m) => results.get(m.messageId) ?? { messageId: m.messageId, outcome: 'duplicate' });
  });
}

/** Inserts the dedupe rows; returns the ids that were new. A second delivery finds its row. */
async function claimMessageIds(
  manager: EntityManager,
  reports: readonly ExecutionReport[],
): Promise<Set<string>> {
  if (reports.length === 0) return new Set();
  const rows: { message_id: string }[] = await manager.query(
    `INSERT INTO processed_messages (message_id, type, node_id, outcome)
     SELECT *, 'applied' FROM unnest($1::uuid[], $2::text[], $3::text[])
     ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
    [reports.map((r) => r.messageId), reports.map((r) => r.type), reports.map((r) => r.nodeId)],
  );
  return new Set(rows.map((row) => row.message_id));
}

async function applyReports(
  deps: AppDeps,
  manager: EntityManager,
  reports: readonly ExecutionReport[],
  now: Date,
  results: Map<string, RecordResult>,
): Promise<void> {
  const locked = await lockExecutionsWithTasks(manager, [
    ...new Set(reports.map((r) => r.payload.executionId)),
  ]);
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
