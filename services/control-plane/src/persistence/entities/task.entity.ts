import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TaskRetryPolicy, TaskSchedule, TaskStatus } from '@meridian/contracts/api/task';
import type { TriggerType } from '@meridian/contracts/api/task-run';

@Entity('tasks')
export class TaskEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('text') type!: string;
  @Column('text') name!: string;
  @Column('text', { nullable: true }) description!: string | null;
  /** 0 Low … 3 Critical, so that the dispatch queue sorts by it. */
  @Column('smallint') priority!: number;
  @Column('text') status!: TaskStatus;
  @Column('text', { name: 'target_type' }) targetType!: string;
  @Column('text', { name: 'target_id' }) targetId!: string;
  @Column('text', { name: 'node_id', nullable: true }) nodeId!: string | null;
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('jsonb') metadata!: Record<string, unknown>;
  @Column('integer', { name: 'timeout_seconds' }) timeoutSeconds!: number;
  @Column('integer', { name: 'max_retries' }) maxRetries!: number;
  /** Automatic retries used so far. */
  @Column('integer', { name: 'retry_count' }) retryCount!: number;
  @Column('integer', { name: 'attempt_count' }) attemptCount!: number;
  /** The task's own backoff; null: the configured one. */
  @Column('jsonb', { name: 'retry_policy', nullable: true }) retryPolicy!: TaskRetryPolicy | null;
  @Column('timestamptz', { name: 'scheduled_at', nullable: true }) scheduledAt!: Date | null;
  /** Earliest time the dispatcher may send the task: creation, `scheduledAt` or the next retry. */
  @Column('timestamptz', { name: 'run_after' }) runAfter!: Date;
  @Column('uuid', { name: 'current_execution_id', nullable: true }) currentExecutionId!: string | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('text', { name: 'cancelled_by', nullable: true }) cancelledBy!: string | null;
  @Column('text', { name: 'cancellation_reason', nullable: true }) cancellationReason!: string | null;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt!: Date | null;
  /** The run in progress or, on a finished task, the last one (`task_runs`). */
  @Column('uuid', { name: 'current_run_id', nullable: true }) currentRunId!: string | null;
  /** Runs started or queued so far; the next run's number is this plus one. */
  @Column('integer', { name: 'run_count' }) runCount!: number;
  /** What started the current (or last) run. */
  @Column('text', { name: 'trigger_type' }) triggerType!: TriggerType;
  /** Runs waiting behind the current one (`queue: true`). */
  @Column('integer', { name: 'queued_run_count' }) queuedRunCount!: number;
  /** Id the next dispatch gives its execution: the run's first attempt, announced when it was triggered. */
  @Column('uuid', { name: 'next_execution_id', nullable: true }) nextExecutionId!: string | null;
  /** A cron schedule (`reschedule` with `strategy: cron`); null: runs only when triggered. */
  @Column('jsonb', { nullable: true }) schedule!: TaskSchedule | null;
  /** When the schedule's next occurrence starts a run. */
  @Column('timestamptz', { name: 'next_run_at', nullable: true }) nextRunAt!: Date | null;
  /** The status a Paused task returns to when resumed. */
  @Column('text', { name: 'paused_from', nullable: true }) pausedFrom!: TaskStatus | null;
  @Column('timestamptz', { name: 'paused_at', nullable: true }) pausedAt!: Date | null;
  /** Paused while an execution ran: the pause takes effect when that run stops needing the node. */
  @Column('timestamptz', { name: 'pause_requested_at', nullable: true }) pauseRequestedAt!: Date | null;
}
