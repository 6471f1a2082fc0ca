/**
 * The local agent of `npm start`. When the broker's management API can provision per-node users,
 * the agent is enrolled through the control plane's API as any production agent is: a broker user
 * of its own, validated senders, signed commands verified. Otherwise it runs in development mode on
 * the shared broker login, and says so loudly (so does `npm start`): any program holding that
 * login can pose as any node.
 */
import pg from 'pg';
import { brokerUsername } from '@meridian/contracts/security/node-identity';
import { brokerAddress, createEnrollment, newAgentDataDir } from '../test/support/enrolled-agent.js';
import type { BrokerManagement } from '../test/support/find-broker-management.js';
import { redactUrl } from '../test/support/infra.js';
import { startAgent, startAgentProcess } from '../test/support/processes.js';
import type { ManagedProcess, OutputListener } from '../test/support/processes.js';

export interface LocalAgentOptions {
  management: BrokerManagement;
  amqpUrl: string;
  prefix: string;
  controlPlaneUrl: string;
  /** A bearer token with `node:admin` in `orgId`, to create the enrollment. */
  adminToken: string;
  databaseUrl: string;
  nodeId: string;
  orgId: string;
  capacity: number;
  logLevel: string;
  onOutput: OutputListener;
}

export interface LocalAgent {
  process: ManagedProcess;
  nodeId: string;
  mode: 'enrolled' | 'development';
  /** One line for the welcome text. */
  summary: string;
}

/** Seconds the enrollment token of the local agent lives: it is used at once. */
const ENROLLMENT_TTL_SECONDS = 600;

export async function startLocalAgent(options: LocalAgentOptions): Promise<LocalAgent> {
  const logLevel = options.logLevel === 'trace' || options.logLevel === 'debug' ? options.logLevel : 'info';
  if (options.management.available) {
    // A fresh enrollment at every start: the node keeps its id; its password is replaced.
    const enrollment = await createEnrollment(options.controlPlaneUrl, options.adminToken, {
      nodeId: options.nodeId,
      expiresInSeconds: ENROLLMENT_TTL_SECONDS,
    });
    const process = await startAgentProcess({
      name: `agent ${options.nodeId}`,
      env: {
        AMQP_URL: brokerAddress(options.amqpUrl),
        TOPOLOGY_PREFIX: options.prefix,
        CONTROL_PLANE_URL: options.controlPlaneUrl,
        ENROLLMENT_TOKEN: enrollment.token,
        AGENT_DATA_DIR: newAgentDataDir(),
        MAX_CONCURRENCY: String(options.capacity),
        LOG_LEVEL: logLevel,
      },
      onOutput: options.onOutput,
    });
    return {
      process,
      nodeId: options.nodeId,
      mode: 'enrolled',
      summary: `enrolled: broker user ${brokerUsername(options.prefix, options.nodeId)}, signed commands (management API ${redactUrl(options.management.url)})`,
    };
  }
  // A node enrolled by an earlier start speaks only through its own broker user: the shared
  // login would be refused for it, so development mode takes another id.
  const nodeId = (await isEnrolled(options.databaseUrl, options.nodeId))
    ? `${options.nodeId}-dev`
    : options.nodeId;
  const process = await startAgent({
    amqpUrl: options.amqpUrl,
    prefix: options.prefix,
    nodeId,
    orgId: options.orgId,
    maxConcurrency: options.capacity,
    env: { LOG_LEVEL: logLevel },
    onOutput: options.onOutput,
  });
  return {
    process,
    nodeId,
    mode: 'development',
    summary: 'DEVELOPMENT MODE: shared broker login, commands not verified',
  };
}

/** The banner `npm start` prints when the local agent runs on the shared login. */
export function developmentModeWarning(reason: string): string[] {
  const bar = '!'.repeat(100);
  return [
    bar,
    '!! DEVELOPMENT MODE: the local agent uses the shared broker login.',
    '!! Any program holding that login can pose as any node of any organisation, read every',
    "!! node's commands and send reports and heartbeats in their name. Never expose this broker.",
    `!! Why: ${reason}.`,
    '!! For per-node credentials and signed commands, enable the management plugin',
    '!! (rabbitmq-plugins enable rabbitmq_management) with an administrator login, or set',
    '!! BROKER_MANAGEMENT_URL=http://USER:PASSWORD@HOST:15672, and run npm start again.',
    '!! See docs/security.md.',
    bar,
  ];
}

async function isEnrolled(databaseUrl: string, nodeId: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ enrolled: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM node_credentials WHERE node_id = $1)
           OR EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND revoked_at IS NOT NULL) AS enrolled`,
      [nodeId],
    );
    return rows[0]?.enrolled ?? false;
  } finally {
    await client.end();
  }
}
