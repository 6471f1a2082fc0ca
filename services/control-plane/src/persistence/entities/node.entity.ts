import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('nodes')
export class NodeEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'org_id' }) orgId!: string;
  @Column('text', { name: 'agent_id' }) agentId!: string;
  @Column('text', { name: 'agent_version' }) agentVersion!: string;
  @Column('integer', { name: 'protocol_version' }) protocolVersion!: number;
  @Column('integer') capacity!: number;
  @Column('integer', { name: 'reported_running' }) reportedRunning!: number;
  @Column('jsonb') labels!: Record<string, string>;
  @Column('boolean') draining!: boolean;
  @Column('timestamptz', { name: 'first_seen_at' }) firstSeenAt!: Date;
  @Column('timestamptz', { name: 'last_seen_at' }) lastSeenAt!: Date;
  /** Set when the node was declared lost; cleared by its next heartbeat. */
  @Column('timestamptz', { name: 'lost_at', nullable: true }) lostAt!: Date | null;
  /** Set when an admin revoked the node; cleared when it is enrolled again. */
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  /** The task types its agent announced in its last heartbeat that said; null if it never did. */
  @Column('text', { name: 'handler_types', array: true, nullable: true }) handlerTypes!: string[] | null;
}
