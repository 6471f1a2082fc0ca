import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TriggerType } from '@meridian/contracts/api/task-run';

export type TaskRunState = 'queued' | 'current' | 'ended' | 'dropped';

/**
 * One run of a task: started by a trigger, made of one or more attempts (executions). A run
 * queued behind a running one waits as `queued` until the task is idle.
 */
@Entity('task_runs')
export class TaskRunEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('uuid', { name: 'task_id' }) taskId!: string;
  @Column('integer', { name: 'run_number' }) runNumber!: number;
  @Column('text', { name: 'trigger_type' }) triggerType!: TriggerType;
  @Column('text', { name: 'trigger_reason', nullable: true }) triggerReason!: string | null;
  @Column('jsonb', { name: 'trigger_context' }) triggerContext!: Record<string, unknown>;
  @Column('text') actor!: string;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  /** The id the run's first attempt gets when dispatched; announced to the caller who triggered it. */
  @Column('uuid', { name: 'first_execution_id' }) firstExecutionId!: string;
  @Column('text') state!: TaskRunState;
  @Column('timestamptz', { name: 'run_after' }) runAfter!: Date;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt!: Date | null;
}
