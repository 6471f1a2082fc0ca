import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TaskRetryPolicy, TaskStatus } from '@meridian/contracts/api/task';

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
}
