import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { topology } from '@meridian/contracts/topology';
import type { Actor } from '@meridian/control-plane/app/actor';
import type { AppDeps } from '@meridian/control-plane/app/app-deps';
import { appSettingsFrom } from '@meridian/control-plane/app-settings';
import { loadConfig } from '@meridian/control-plane/config';
import { ephemeralKeyring } from '@meridian/control-plane/security/command-keyring';
import { createTask } from '@meridian/control-plane/app/create-task';
import { dispatchPendingTasks } from '@meridian/control-plane/app/dispatch-pending-tasks';
import { recordAgentMessages } from '@meridian/control-plane/app/record-agent-messages';
import { createDataSource } from '@meridian/control-plane/persistence/data-source';
import { TaskEntity } from '@meridian/control-plane/persistence/entities/task.entity';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private current = new Date('2026-06-01T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(date: Date): void {
    this.current = new Date(date);
  }
}

/** Use-case dependencies on a real database, with the defaults of seed 004 and a manual clock. */
export async function createTestAppDeps(
  databaseUrl: string,
  clock = new ManualClock(),
): Promise<AppDeps & { clock: ManualClock }> {
  const dataSource = createDataSource({ url: databaseUrl, poolSize: 4 });
  await dataSource.initialize();
  return {
    dataSource,
    clock,
    random: () => 0.5,
    topology: topology(`t-${randomUUID().slice(0, 8)}`),
    logger: pino({ level: 'silent' }),
    keyring: ephemeralKeyring(),
    ...appSettingsFrom(loadConfig({})),
  };
}

export function actorOf(
  orgId: string,
  permissions: string[] = ['task:read', 'task:write', 'node:read'],
): Actor {
  return {
    orgId,
    userId: 'user-1',
    permissions: new Set(permissions),
    correlationId: `corr-${randomUUID()}`,
  };
}

/** A heartbeat envelope as an agent would send it; `extra` adds fields (its servers, handler types). */
export function heartbeat(
  nodeId: string,
  orgId: string,
  capacity: number,
  at: Date,
  extra: Partial<AgentHeartbeat> = {},
): AgentMessage {
  return {
    messageId: randomUUID(),
    type: 'AgentHeartbeat',
    schemaVersion: 1,
    occurredAt: at.toISOString(),
    correlationId: `hb-${nodeId}`,
    nodeId,
    payload: {
      nodeId,
      orgId,
      agentId: `${nodeId}-agent`,
      agentVersion: '0.1.0',
      protocolVersion: 1,
      capacity,
      runningExecutions: [],
      labels: { zone: 'test' },
      ...extra,
    },
  };
}

type ReportType = Exclude<AgentMessage['type'], 'AgentHeartbeat'>;

/** A report envelope about one execution. */
export function report(
  type: ReportType,
  execution: { taskId: string; executionId: string; nodeId: string },
  sequence: number,
  fields: Record<string, unknown> = {},
  at = new Date(),
): AgentMessage {
  return {
    messageId: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: at.toISOString(),
    correlationId: 'corr-report',
    nodeId: execution.nodeId,
    payload: { taskId: execution.taskId, executionId: execution.executionId, sequence, ...fields },
  } as AgentMessage;
}

/**
 * A `Command` task of an organisation of its own, dispatched to a node of its own (which has just
 * sent its first heartbeat): an execution to report or log against.
 */
export async function dispatchedExecution(deps: AppDeps) {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  const task = await createTask(deps, actorOf(orgId), {
    type: 'Command',
    name: 'print',
    priority: 'Normal',
    targetType: 'Node',
    targetId: nodeId,
    nodeId,
    payload: { command: ['echo', 'hi'] },
    metadata: {},
  });
  await dispatchPendingTasks(deps, 100);
  const row = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
  return { orgId, nodeId, taskId: task.id, executionId: row.currentExecutionId! };
}
