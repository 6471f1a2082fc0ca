import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per consumed agent message: the dedupe key, and the record of what it did. */
@Entity('processed_messages')
export class ProcessedMessageEntity {
  @PrimaryColumn('uuid', { name: 'message_id' }) messageId!: string;
  @Column('text') type!: string;
  @Column('text', { name: 'node_id' }) nodeId!: string;
  @Column('text') outcome!: 'applied' | 'ignored';
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { name: 'processed_at' }) processedAt!: Date;
}
