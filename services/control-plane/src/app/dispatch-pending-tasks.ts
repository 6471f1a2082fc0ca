import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  EXECUTE_TASK,
  EXECUTE_TASK_SCHEMA_VERSION,
  type ExecuteTask,
} from '@meridian/contracts/messages/execute-task';
import { assignTasksToNodes, type DispatchCandidate, type NodeSlots } from '../domain/node-selection.js';
import { transition } from '../domain/task-status.js';
import { OUTBOX_CHANNEL, outboxPart, type NewOutboxMessage } from '../persistence/outbox.writes.js';
import { taskEventsPart, type NewTaskEvent } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { AppDeps } from './app-deps.js';
import { OFFLINE_AFTER_MS } from './node-queries.js';

/**
 * Any constant: the key of the transaction lock that lets one dispatcher at a time count slots
 * (revoking a node takes it too, so that no pass hands work to a node revoked meanwhile).
 */
export const DISPATCH_LOCK_KEY = 7_300_001;

interface CandidateRow {
  id: string;
  org_id: string;
  node_id: string | null;
  status: TaskStatus;
  type: string;
  target_type: string;
  target_id: string;
  payload: Record<string, unknown>;
  timeout_seconds: number;
  attempt_count: number;
  correlation_id: string;
  /** The run's announced id for its first attempt; null once used (a retry gets a new id). */
  next_execution_id: string | null;
  run_id: string | null;
  run_number: number;
  trigger_type: string;
  trigger_reason: string | null;
  trigger_context: Record<string, unknown>;
}

/**
 * One dispatch pass: sends waiting tasks (priority, then age) into free node slots only, never
 * more than a node's capacity. Every replica may run it; a transaction-scoped advisory lock makes
 * the slot count of one pass exact, and SKIP LOCKED passes over tasks a user is changing.
 * Returns how many tasks were dispatched.
 */
export async function dispatchPendingTasks(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  const dispatched = await deps.dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [DISPATCH_LOCK_KEY]);
    const nodes = await freeNodes(manager, now);
    if (nodes.length === 0) return [];
    const candidates: CandidateRow[] = await manager.query(
      `SELECT t.id, t.org_id, t.node_id, t.status, t.type, t.target_type, t.target_id, t.payload, t.timeout_seconds,
              t.attempt_count, t.correlation_id, t.next_execution_id, r.id AS run_id,
              coalesce(r.run_number, t.run_count) AS run_number, t.trigger_type, r.trigger_reason,
              coalesce(r.trigger_context, '{}'::jsonb) AS trigger_context
         FROM tasks t
         LEFT JOIN task_runs r ON r.id = t.current_run_id
        WHERE t.status IN ('Pending','Retrying') AND t.run_after <= $1 AND t.org_id = ANY($2::text[])
          AND (t.node_id IS NULL OR t.node_id = ANY($4::text[])) AND t.pause_requested_at IS NULL
        ORDER BY t.priority DESC, t.run_after, t.created_at
        LIMIT $3
        FOR UPDATE OF t SKIP LOCKED`,
      [now, [...new Set(nodes.map((n) => n.orgId))], batchSize, nodes.map((n) => n.id)],
    );
    const byId = new Map(candidates.map((row) => [row.id, row]));
    const assignments = assignTasksToNodes(
      candidates.map((row): DispatchCandidate => ({
        taskId: row.id,
        orgId: row.org_id,
        nodeId: row.node_id,
      })),
      nodes,
    );
    const agentOf = new Map(nodes.map((node) => [node.id, node.agentId]));
    const planned = assignments.map(({ taskId, nodeId }) => {
      const task = byId.get(taskId)!;
      return {
        task,
        nodeId,
        agentId: agentOf.get(nodeId) ?? null,
        executionId: task.next_execution_id ?? randomUUID(),
        attempt: task.attempt_count + 1,
      };
    });
    await writeDispatches(deps, manager, planned, now);
    return planned;
  });
  for (const { task, nodeId, executionId } of dispatched) {
    deps.logger.debug(
      { taskId: task.id, executionId, nodeId, correlationId: task.correlation_id },
      'task dispatched',
    );
  }
  return dispatched.length;
}

interface FreeNode extends NodeSlots {
  agentId: string;
}

async function freeNodes(manager: EntityManager, now: Date): Promise<FreeNode[]> {
  const rows: { id: string; org_id: string; agent_id: string; capacity: number; active: string }[] =
    await manager.query(
      `SELECT n.id, n.org_id, n.agent_id, n.capacity, coalesce(a.active, 0) AS active
       FROM nodes n
       LEFT JOIN (SELECT node_id, count(*) AS active FROM executions WHERE released_at IS NULL GROUP BY node_id) a
              ON a.node_id = n.id
      WHERE n.last_seen_at > $1 AND n.lost_at IS NULL AND n.revoked_at IS NULL AND NOT n.draining
        AND n.capacity > coalesce(a.active, 0)`,
      [new Date(now.getTime() - OFFLINE_AFTER_MS)],
    );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    agentId: row.agent_id,
    capacity: row.capacity,
    active: Number(row.active),
  }));
}

interface PlannedDispatch {
  task: CandidateRow;
  nodeId: string;
  agentId: string | null;
  executionId: string;
  attempt: number;
}

async function writeDispatches(
  deps: AppDeps,
  manager: EntityManager,
  planned: readonly PlannedDispatch[],
  now: Date,
): Promise<void> {
  if (planned.length === 0) return;
  const deadlines = planned.map((p) => new Date(now.getTime() + p.task.timeout_seconds * 1000));
  const insertExecutions = {
    sql: `INSERT INTO executions (id, task_id, org_id, attempt, status, node_id, agent_id, dispatched_at, deadline,
                             correlation_id, run_id, run_number, task_type, trigger_type, trigger_reason,
                             trigger_context)
     SELECT id, task_id, org_id, attempt, 'Dispatched', node_id, agent_id, $8, deadline, correlation_id, run_id,
            run_number, task_type, trigger_type, trigger_reason, trigger_context
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],
                   $9::text[], $10::uuid[], $11::int[], $12::text[], $13::text[], $14::text[], $15::jsonb[])
            AS u(id, task_id, org_id, attempt, node_id, agent_id, deadline, correlation_id, run_id, run_number,
                 task_type, trigger_type, trigger_reason, trigger_context)`,
    params: [
      planned.map((p) => p.executionId),
      planned.map((p) => p.task.id),
      planned.map((p) => p.task.org_id),
      planned.map((p) => p.attempt),
      planned.map((p) => p.nodeId),
      planned.map((p) => p.agentId),
      deadlines,
      now,
      planned.map((p) => p.task.correlation_id),
      planned.map((p) => p.task.run_id),
      planned.map((p) => p.task.run_number),
      planned.map((p) => p.task.type),
      planned.map((p) => p.task.trigger_type),
      planned.map((p) => p.task.trigger_reason),
      planned.map((p) => JSON.stringify(p.task.trigger_context)),
    ],
  };
  const scheduleTasks = {
    sql: `UPDATE tasks t SET status = 'Scheduled', current_execution_id = u.execution_id, attempt_count = u.attempt,
                        next_execution_id = NULL, updated_at = $3
       FROM unnest($1::uuid[], $2::uuid[], $4::int[]) AS u(task_id, execution_id, attempt)
      WHERE t.id = u.task_id`,
    params: [
      planned.map((p) => p.task.id),
      planned.map((p) => p.executionId),
      now,
      planned.map((p) => p.attempt),
    ],
  };
  const events: NewTaskEvent[] = [];
  const messages: NewOutboxMessage[] = [];
  planned.forEach((p, index) => {
    const moved = transition(p.task.status, {
      type: 'Dispatch',
      executionId: p.executionId,
      nodeId: p.nodeId,
    });
    if (!moved.ok) throw new Error(`dispatch of task ${p.task.id}: ${moved.error}`);
    const deadline = deadlines[index]!;
    events.push({
      orgId: p.task.org_id,
      taskId: p.task.id,
      executionId: p.executionId,
      type: 'TaskDispatched',
      fromStatus: moved.from,
      toStatus: moved.to,
      actor: 'system:dispatcher',
      correlationId: p.task.correlation_id,
      data: {
        nodeId: p.nodeId,
        attempt: p.attempt,
        deadline: deadline.toISOString(),
        runNumber: p.task.run_number,
        triggerType: p.task.trigger_type,
      },
      occurredAt: now,
    });
    const command: ExecuteTask = {
      taskId: p.task.id,
      executionId: p.executionId,
      attempt: p.attempt,
      orgId: p.task.org_id,
      type: p.task.type,
      target: { type: p.task.target_type, id: p.task.target_id },
      payload: p.task.payload,
      timeoutSeconds: p.task.timeout_seconds,
      deadline: deadline.toISOString(),
    };
    const messageId = randomUUID();
    messages.push({
      messageId,
      exchange: deps.topology.commandsExchange,
      routingKey: deps.topology.nodeWorkKey(p.nodeId),
      type: EXECUTE_TASK,
      correlationId: p.task.correlation_id,
      body: buildEnvelope(
        EXECUTE_TASK,
        EXECUTE_TASK_SCHEMA_VERSION,
        { messageId, occurredAt: now, correlationId: p.task.correlation_id, nodeId: p.nodeId },
        command,
      ),
    });
  });
  await new WriteBatch()
    .add(insertExecutions)
    .add(scheduleTasks)
    .add(taskEventsPart(events))
    .add(outboxPart(messages))
    .notify(OUTBOX_CHANNEL)
    .run(manager);
}
