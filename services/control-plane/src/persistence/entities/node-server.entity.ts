import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { NodeServerState } from '@meridian/contracts/api/node-server';

/** A server hosted by a node: from its heartbeats, or `assigned` by a ServerStart naming the node. */
@Entity('node_servers')
export class NodeServerEntity {
  @PrimaryColumn('text', { name: 'org_id' }) orgId!: string;
  @PrimaryColumn('text', { name: 'server_id' }) serverId!: string;
  @Column('text', { name: 'node_id' }) nodeId!: string;
  @Column('text') state!: NodeServerState;
  @Column('integer', { nullable: true }) pid!: number | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('integer', { name: 'last_exit_code', nullable: true }) lastExitCode!: number | null;
  @Column('text', { name: 'last_exit_signal', nullable: true }) lastExitSignal!: string | null;
  @Column('integer') restarts!: number;
  /** When the state last changed, on the agent's clock; null while `assigned`. */
  @Column('timestamptz', { name: 'changed_at', nullable: true }) changedAt!: Date | null;
  /** When a heartbeat last reported the server; null while `assigned`. */
  @Column('timestamptz', { name: 'reported_at', nullable: true }) reportedAt!: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
