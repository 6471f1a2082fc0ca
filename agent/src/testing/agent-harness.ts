import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ConfirmChannel, type ChannelModel } from 'amqplib';
import {
  isExecutionReport,
  parseAgentMessage,
  type AgentMessage,
  type CommandRejectedMessage,
} from '@meridian/contracts/messages/agent-message';
import { EnvelopeSchema } from '@meridian/contracts/messages/envelope';
import { LOG_CHUNK, LogChunkSchema } from '@meridian/contracts/messages/log-chunk';
import type { CommandMessage } from '@meridian/contracts/messages/command-message';
import { EXCHANGE_TYPES, topology } from '@meridian/contracts/topology';
import { deleteBrokerObjects, uniquePrefix, waitFor } from '../../../test/support/test-context.js';
import { startAgent, type Agent } from '../agent.js';
import { loadConfig } from '../config.js';
import type { LogChunkMessage } from '../logs/execution-log.js';
import { createLogger, type Logger } from '../logger.js';
import { temporaryDataDir } from './data-dir.js';
import { enrollHarnessNode, type EnrolledNode } from './enrolled-node.js';

/** A report as observed on the agent-events exchange, with its AMQP properties. */
export interface Observed {
  message: AgentMessage;
  /** Position among everything observed (reports and log chunks share one queue: broker order). */
  arrival: number;
  routingKey: string;
  properties: {
    messageId?: string;
    type?: string;
    correlationId?: string;
    contentType?: string;
    deliveryMode?: number;
    userId?: string;
  };
}

export interface ObservedLogChunk {
  message: LogChunkMessage;
  arrival: number;
  routingKey: string;
  properties: Observed['properties'];
}

export interface ObservedRejection {
  message: CommandRejectedMessage;
  routingKey: string;
  properties: Observed['properties'];
}

export interface AgentHarness {
  prefix: string;
  nodeId: string;
  /** The agent running now (another one after `restartAgent`). */
  readonly agent: Agent;
  /** Stops the agent and starts a new one on the same configuration (node, data directory). */
  restartAgent(): Promise<void>;
  /** Enrolled mode: the signer the agent trusts, the control plane it asks for keys, its credentials file. */
  enrolled?: EnrolledNode;
  observed: Observed[];
  /** CommandRejected reports, in arrival order. */
  rejections: ObservedRejection[];
  waitForRejection(commandMessageId: string): Promise<CommandRejectedMessage['payload']>;
  /** LogChunks observed on the logs exchange, in arrival order. */
  logChunks: ObservedLogChunk[];
  logChunksOf(executionId: string): ObservedLogChunk[];
  /** Reports of one execution, in arrival order, as `Type:sequence`. */
  reportsOf(executionId: string): string[];
  payloadOf(executionId: string, type: string): Record<string, unknown> | undefined;
  heartbeats(): Extract<AgentMessage, { type: 'AgentHeartbeat' }>[];
  waitForReport(executionId: string, type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Publishes the command on its queue; signed by the harness's signer in enrolled mode. */
  send(command: CommandMessage): Promise<void>;
  sendRaw(queue: 'work' | 'control', body: Buffer): Promise<void>;
  /** Publishes bytes with AMQP headers (signed, forged or tampered commands). */
  publish(
    queue: 'work' | 'control',
    body: Buffer,
    properties?: { headers?: Record<string, string>; messageId?: string },
  ): Promise<void>;
  /** Messages waiting in the node's work queue. */
  workQueueDepth(): Promise<number>;
  /**
   * Stops the agent (if the test did not), deletes every queue and exchange of the prefix, and fails
   * if the agent sent anything the contracts refuse.
   */
  dispose(): Promise<void>;
}

/**
 * Runs an agent in-process on a prefix of its own, with a raw amqplib client (independent of the
 * agent's rabbitmq-client) observing every message on the agent-events and logs exchanges. Both
 * are bound to one queue, so that arrival order is the order in which the broker routed them.
 */
export async function startAgentHarness(
  amqpUrl: string,
  env: Record<string, string> = {},
  options: {
    inProcessAgent?: boolean;
    /** Enrolled mode; with a broker login other than guest's (a provisioned node user). */
    enrolled?: boolean | { broker: { username: string; password: string } };
    logger?: Logger;
    /** Defaults: a unique prefix and node id. */
    prefix?: string;
    nodeId?: string;
  } = {},
): Promise<AgentHarness> {
  const prefix = options.prefix ?? uniquePrefix();
  const nodeId = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  const names = topology(prefix);
  const observerQueue = `${prefix}.observer`;
  const observed: Observed[] = [];
  const rejections: ObservedRejection[] = [];
  const logChunks: ObservedLogChunk[] = [];
  const invalid: string[] = [];
  let arrivals = 0;

  const connection: ChannelModel = await connectAmqp(amqpUrl);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  await channel.assertExchange(names.agentEventsExchange, EXCHANGE_TYPES.agentEvents, { durable: true });
  await channel.assertQueue(observerQueue, { durable: false });
  await channel.bindQueue(observerQueue, names.agentEventsExchange, '#');
  await channel.assertExchange(names.logsExchange, EXCHANGE_TYPES.logs, { durable: true });
  await channel.bindQueue(observerQueue, names.logsExchange, '#');
  await channel.consume(
    observerQueue,
    (delivery) => {
      if (!delivery) return;
      const seen = {
        arrival: arrivals++,
        routingKey: delivery.fields.routingKey,
        properties: delivery.properties,
      };
      if (delivery.fields.exchange === names.logsExchange) {
        const chunk = parseLogChunk(delivery.content);
        if (typeof chunk === 'string') invalid.push(chunk);
        else logChunks.push({ message: chunk, ...seen });
        return;
      }
      const parsed = parseAgentMessage(delivery.content);
      if (!parsed.ok) invalid.push(parsed.reason);
      else if (parsed.message.type === 'CommandRejected')
        rejections.push({ message: parsed.message, ...seen });
      else observed.push({ message: parsed.message, ...seen });
    },
    { noAck: true },
  );

  const dataDir = env['AGENT_DATA_DIR'] ?? temporaryDataDir();
  // Enrolled: the node's queues exist (the control plane declares them) and the agent declares nothing.
  const enrolled = options.enrolled
    ? await enrollHarnessNode({
        channel,
        prefix,
        nodeId,
        dataDir,
        labels: {},
        ...(typeof options.enrolled === 'object' ? { broker: options.enrolled.broker } : {}),
      })
    : undefined;
  const config = loadConfig({
    AMQP_URL: amqpUrl,
    ...(enrolled ? {} : { NODE_ID: nodeId, ORG_ID: 'org-test' }),
    TOPOLOGY_PREFIX: prefix,
    SHUTDOWN_GRACE_SECONDS: '1',
    PATH: process.env.PATH,
    LOG_LEVEL: process.env.AGENT_TEST_LOG_LEVEL ?? 'silent',
    AGENT_DATA_DIR: dataDir,
    ...env,
  });
  // Without an in-process agent, the test runs agent processes of its own on `prefix` and `nodeId`.
  const logger = options.logger ?? createLogger(config);
  let agent: Agent =
    options.inProcessAgent === false
      ? { ready: Promise.resolve(), stop: () => Promise.resolve() }
      : startAgent(config, logger);
  await agent.ready;

  const executionReports = (executionId: string) =>
    observed.flatMap(({ message }) =>
      isExecutionReport(message) && message.payload.executionId === executionId ? [message] : [],
    );
  const routingKeys = { work: names.nodeWorkKey(nodeId), control: names.nodeControlKey(nodeId) };
  const publish = async (
    routingKey: string,
    body: Buffer,
    properties: { headers?: Record<string, string>; messageId?: string } = {},
  ) => {
    channel.publish(names.commandsExchange, routingKey, body, {
      contentType: 'application/json',
      persistent: true,
      mandatory: true,
      ...properties,
    });
    await channel.waitForConfirms();
  };
  const queueOf = (command: CommandMessage) =>
    command.type === 'ExecuteTask' ? routingKeys.work : routingKeys.control;

  // Delivery is at least once: a report whose confirm was lost in an outage is sent again under its
  // messageId, and the control plane takes it once. Copies are counted once here too; work run
  // twice would still show, as reports with messageIds of their own.
  const reportsOf = (executionId: string) => {
    const seen = new Set<string>();
    return executionReports(executionId).flatMap((m) => {
      if (seen.has(m.messageId)) return [];
      seen.add(m.messageId);
      return [`${m.type}:${m.payload.sequence}`];
    });
  };
  const payloadOf = (executionId: string, type: string) =>
    executionReports(executionId).find((m) => m.type === type)?.payload as
      Record<string, unknown> | undefined;

  return {
    prefix,
    nodeId,
    get agent() {
      return agent;
    },
    async restartAgent() {
      await agent.stop();
      agent = startAgent(config, logger);
      await agent.ready;
    },
    ...(enrolled ? { enrolled } : {}),
    observed,
    rejections,
    waitForRejection: async (commandMessageId) =>
      (
        await waitFor(() => rejections.find((r) => r.message.payload.commandMessageId === commandMessageId), {
          timeoutMs: 5_000,
          intervalMs: 10,
          description: `a CommandRejected for ${commandMessageId}`,
        })
      ).message.payload,
    logChunks,
    logChunksOf: (executionId) =>
      logChunks.filter((chunk) => chunk.message.payload.executionId === executionId),
    reportsOf,
    payloadOf,
    heartbeats: () => observed.flatMap(({ message }) => (message.type === 'AgentHeartbeat' ? [message] : [])),
    waitForReport: (executionId, type, timeoutMs = 5_000) =>
      waitFor(() => payloadOf(executionId, type), {
        timeoutMs,
        intervalMs: 10,
        description: `${type} of ${executionId} (seen: ${reportsOf(executionId).join(', ') || 'nothing'})`,
      }),
    send: (command) => {
      if (!enrolled) {
        return publish(queueOf(command), Buffer.from(JSON.stringify(command)), {
          messageId: command.messageId,
        });
      }
      const { body, headers } = enrolled.signer.sign(command);
      return publish(queueOf(command), body, { headers, messageId: command.messageId });
    },
    sendRaw: (queue, body) => publish(routingKeys[queue], body),
    publish: (queue, body, properties) => publish(routingKeys[queue], body, properties),
    async workQueueDepth() {
      return (await channel.checkQueue(names.nodeWorkQueue(nodeId))).messageCount;
    },
    async dispose() {
      await agent.stop();
      await enrolled?.controlPlane.close();
      await connection.close().catch(() => undefined);
      await deleteBrokerObjects(amqpUrl, prefix, {
        queues: [names.nodeWorkQueue(nodeId), names.nodeControlQueue(nodeId), observerQueue],
        exchanges: [names.commandsExchange, names.agentEventsExchange, names.logsExchange],
      });
      if (invalid.length > 0) throw new Error(`the agent sent invalid messages: ${invalid.join('; ')}`);
    },
  };
}

/** A LogChunk as the contracts define it, or why it is not one. */
function parseLogChunk(body: Buffer): LogChunkMessage | string {
  const envelope = EnvelopeSchema.safeParse(JSON.parse(body.toString('utf8')));
  if (!envelope.success || envelope.data.type !== LOG_CHUNK)
    return `not a LogChunk envelope: ${body.toString('utf8', 0, 200)}`;
  const payload = LogChunkSchema.safeParse(envelope.data.payload);
  if (!payload.success) return `invalid LogChunk: ${payload.error.message}`;
  return { ...envelope.data, type: LOG_CHUNK, payload: payload.data };
}
