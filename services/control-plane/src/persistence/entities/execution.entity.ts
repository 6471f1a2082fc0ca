import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { TriggerType } from '@meridian/contracts/api/task-run';

@Entity('executions')
export class ExecutionEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'task_id' }) taskId!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('integer') attempt!: number;
  @Column('text') status!: ExecutionStatus;
  @Column('text', { name: 'node_id' }) nodeId!: string;
  @Column('text', { name: 'agent_id', nullable: true }) agentId!: string | null;
  @Column('timestamptz', { name: 'dispatched_at' }) dispatchedAt!: Date;
  @Column('timestamptz', { name: 'accepted_at', nullable: true }) acceptedAt!: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt!: Date | null;
  /** Set when the execution stops holding a slot on its node. */
  @Column('timestamptz', { name: 'released_at', nullable: true }) releasedAt!: Date | null;
  @Column('timestamptz') deadline!: Date;
  @Column('integer', { name: 'duration_ms', nullable: true }) durationMs!: number | null;
  @Column('integer', { name: 'exit_code', nullable: true }) exitCode!: number | null;
  @Column('real', { name: 'progress_percent', nullable: true }) progressPercent!: number | null;
  @Column('text', { name: 'progress_message', nullable: true }) progressMessage!: string | null;
  @Column('text', { nullable: true }) output!: string | null;
  @Column('text', { name: 'error_output', nullable: true }) errorOutput!: string | null;
  @Column('integer', { name: 'output_truncated_bytes' }) outputTruncatedBytes!: number;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage!: string | null;
  @Column('jsonb', { nullable: true }) result!: unknown;
  /** Highest agent report sequence applied; older reports change nothing. */
  @Column('integer', { name: 'last_sequence' }) lastSequence!: number;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  /** Seq of the last log line, from the end report (null: unknown, an older agent or not ended). */
  @Column('integer', { name: 'last_log_seq', nullable: true }) lastLogSeq!: number | null;
  @Column('uuid', { name: 'run_id', nullable: true }) runId!: string | null;
  @Column('integer', { name: 'run_number' }) runNumber!: number;
  /** The task's type when dispatched: recent durations per type estimate a trigger's completion. */
  @Column('text', { name: 'task_type', nullable: true }) taskType!: string | null;
  @Column('text', { name: 'trigger_type' }) triggerType!: TriggerType;
  @Column('text', { name: 'trigger_reason', nullable: true }) triggerReason!: string | null;
  @Column('jsonb', { name: 'trigger_context' }) triggerContext!: Record<string, unknown>;
}
