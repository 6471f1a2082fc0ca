import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  AGENT_HEARTBEAT,
  AGENT_HEARTBEAT_SCHEMA_VERSION,
  type AgentHeartbeat,
} from '@meridian/contracts/messages/agent-heartbeat';
import type { PublishMessage } from './execution-reporter.js';

export interface HeartbeatOptions {
  publish: PublishMessage;
  intervalMs: number;
  /** protocolVersion: 2 when enrolled, 1 in development mode (unsigned commands, shared login). */
  identity: Pick<
    AgentHeartbeat,
    'nodeId' | 'orgId' | 'agentId' | 'agentVersion' | 'protocolVersion' | 'capacity' | 'labels'
  >;
  runningExecutions(): string[];
  logger: Logger;
}

/**
 * Tells the control plane this agent is alive, what it can take and what it runs. The control
 * plane dispatches only to nodes it has heard from, so `beat()` is also called as soon as the
 * queues are ready, not only on the interval.
 */
export class Heartbeat {
  #timer: NodeJS.Timeout | undefined;
  #draining = false;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.beat(), this.options.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * From now on every heartbeat says `draining: true` (send no more work); beats go on while the
   * running executions finish, so that the control plane does not take the node for lost.
   */
  drain(): Promise<void> {
    this.#draining = true;
    return this.beat();
  }

  /** Publishes one heartbeat now; resolves once confirmed (or given up on), never rejects. */
  beat(): Promise<void> {
    const payload: AgentHeartbeat = {
      ...this.options.identity,
      runningExecutions: this.options.runningExecutions(),
      ...(this.#draining ? { draining: true } : {}),
    };
    const fields = {
      messageId: randomUUID(),
      occurredAt: new Date(),
      correlationId: this.options.identity.agentId,
      nodeId: this.options.identity.nodeId,
    };
    const message = buildEnvelope(AGENT_HEARTBEAT, AGENT_HEARTBEAT_SCHEMA_VERSION, fields, payload);
    return this.options.publish(message).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'heartbeat not sent');
    });
  }
}
