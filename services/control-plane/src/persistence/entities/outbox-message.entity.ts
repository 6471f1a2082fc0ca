import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('outbox')
export class OutboxMessageEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id!: string;
  @Column('uuid', { name: 'message_id' }) messageId!: string;
  @Column('text') exchange!: string;
  @Column('text', { name: 'routing_key' }) routingKey!: string;
  @Column('text') type!: string;
  @Column('jsonb') body!: unknown;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'published_at', nullable: true }) publishedAt!: Date | null;
  @Column('integer') attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  /** Not published before this time: set after a failed or unconfirmed publish. */
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
}
