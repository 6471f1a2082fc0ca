import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  AGENT_HEARTBEAT,
  AGENT_HEARTBEAT_SCHEMA_VERSION,
  type AgentHeartbeat,
} from '@meridian/contracts/messages/agent-heartbeat';
import type { ServerReport } from '@meridian/contracts/task-types/server-spec';
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
  /** The task types this agent runs, announced in every heartbeat. */
  handlerTypes?: readonly string[];
  /** The servers this node hosts, as they are at each beat. */
  servers?: () => ServerReport[];
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
  #inFlight: Promise<void> | undefined;
  #again = false;

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

  /**
   * A heartbeat as soon as possible (a server changed state), coalesced: while one is being sent,
   * any number of calls make one more once it is confirmed, carrying the state by then.
   */
  beatSoon(): void {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = this.beat().finally(() => {
      this.#inFlight = undefined;
      if (!this.#again) return;
      this.#again = false;
      this.beatSoon();
    });
  }

  /** Publishes one heartbeat now; resolves once confirmed (or given up on), never rejects. */
  beat(): Promise<void> {
    const payload: AgentHeartbeat = {
      ...this.options.identity,
      runningExecutions: this.options.runningExecutions(),
      ...(this.options.handlerTypes ? { handlerTypes: [...this.options.handlerTypes] } : {}),
      ...(this.options.servers ? { servers: this.options.servers() } : {}),
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
