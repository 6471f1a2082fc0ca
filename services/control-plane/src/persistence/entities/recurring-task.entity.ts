import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { MisfirePolicy, OverlapPolicy } from '@meridian/contracts/api/recurring';
import type { TaskPriority, TaskRetryPolicy } from '@meridian/contracts/api/task';

/** A task definition with a cron schedule: each occurrence creates one task from it. */
@Entity('recurring_tasks')
export class RecurringTaskEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('text') name!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('text') type!: string;
  @Column('text', { name: 'target_type' }) targetType!: string;
  @Column('text', { name: 'target_id' }) targetId!: string;
  @Column('text', { name: 'node_id', nullable: true }) nodeId!: string | null;
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('jsonb') metadata!: Record<string, unknown>;
  @Column('text') priority!: TaskPriority;
  @Column('integer', { name: 'timeout_seconds', nullable: true }) timeoutSeconds!: number | null;
  @Column('integer', { name: 'max_retries', nullable: true }) maxRetries!: number | null;
  @Column('jsonb', { name: 'retry_policy', nullable: true }) retryPolicy!: TaskRetryPolicy | null;
  @Column('text') schedule!: string;
  @Column('text') timezone!: string;
  @Column('boolean') enabled!: boolean;
  @Column('text') overlap!: OverlapPolicy;
  @Column('text') misfire!: MisfirePolicy;
  @Column('timestamptz', { name: 'next_run_at', nullable: true }) nextRunAt!: Date | null;
  @Column('timestamptz', { name: 'last_run_at', nullable: true }) lastRunAt!: Date | null;
  @Column('uuid', { name: 'last_task_id', nullable: true }) lastTaskId!: string | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
