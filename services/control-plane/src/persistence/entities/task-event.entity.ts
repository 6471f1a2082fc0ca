import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE on this table. */
@Entity('task_events')
export class TaskEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('uuid', { name: 'task_id' }) taskId!: string;
  @Column('uuid', { name: 'execution_id', nullable: true }) executionId!: string | null;
  @Column('text') type!: string;
  @Column('text', { name: 'from_status', nullable: true }) fromStatus!: string | null;
  @Column('text', { name: 'to_status', nullable: true }) toStatus!: string | null;
  @Column('text') actor!: string;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('text', { name: 'message_id', nullable: true }) messageId!: string | null;
  @Column('jsonb') data!: Record<string, unknown>;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('timestamptz', { name: 'recorded_at' }) recordedAt!: Date;
}
