import type { Logger } from 'pino';
import { PROTOCOL_VERSION } from '@meridian/contracts/messages/envelope';
import type { BrokerLogin, ConnectionOptions } from '../broker/connection.js';
import { createCommandRejections, type CommandRejectedSender } from '../broker/command-rejections.js';
import { agentTopology, enrolledAgentTopology, type AgentTopology } from '../broker/topology.js';
import type { CommandOutcome } from '../commands/command-outcome.js';
import type { AgentConfig } from '../config.js';
import {
  createVerifyingGate,
  developmentGate,
  type CommandGate,
  type CommandRefusal,
} from '../security/command-gate.js';
import { SigningKeys } from '../security/signing-keys.js';
import { AcceptedCommands } from '../state/accepted-commands.js';
import { fetchSigningKeys } from './control-plane-client.js';
import { readCredentialsFile, saveSigningKeys } from './credentials-file.js';

/** The protocol a development-mode agent speaks: unsigned commands, the shared login, v1 routing keys. */
export const DEVELOPMENT_PROTOCOL_VERSION = 1;

export const DEVELOPMENT_MODE_WARNING =
  'DEVELOPMENT MODE: this agent logs in with the shared broker login of AMQP_URL and runs commands ' +
  'without verifying their signature: whoever has that login can impersonate this node or make it run ' +
  'anything. Enroll it for production (npm run agent:enroll, or ENROLLMENT_TOKEN and CONTROL_PLANE_URL ' +
  'at first start); see docs/security.md';

export interface CommandChecks {
  gate: CommandGate;
  refuse: (refusal: CommandRefusal, queueType: string) => Promise<CommandOutcome>;
  close(): void;
}

/** What differs between an enrolled agent and one in development mode. */
export interface AgentMode {
  topology: AgentTopology;
  connection: ConnectionOptions;
  protocolVersion: number;
  /** Built once the sender of CommandRejected reports exists. */
  commandChecks(sender: CommandRejectedSender): CommandChecks;
}

export function agentMode(config: AgentConfig, logger: Logger): AgentMode {
  const { identity } = config;
  if (identity.mode === 'development') {
    logger.warn({ mode: 'development', docs: 'docs/security.md' }, DEVELOPMENT_MODE_WARNING);
    return {
      topology: agentTopology(config.topologyPrefix, config.nodeId),
      connection: { loginRefusedHint: 'Check the user and password of AMQP_URL.' },
      protocolVersion: DEVELOPMENT_PROTOCOL_VERSION,
      commandChecks: () => ({
        gate: developmentGate,
        refuse: (refusal) => {
          logger.warn({ reason: refusal.reason, messageId: refusal.messageId }, 'malformed command rejected');
          return Promise.resolve('drop');
        },
        close: () => undefined,
      }),
    };
  }

  const username = identity.brokerUsername;
  logger.info(
    {
      mode: 'enrolled',
      orgId: config.orgId,
      brokerUsername: username,
      credentialsFile: identity.credentialsFile,
    },
    'enrolled agent: commands are verified',
  );
  const initialLogin = new URL(config.amqpUrl);
  return {
    topology: enrolledAgentTopology(config.topologyPrefix, config.nodeId, username),
    connection: {
      login: loginFromFile(
        identity.credentialsFile,
        { nodeId: config.nodeId, username },
        { username, password: decodeURIComponent(initialLogin.password) },
        logger,
      ),
      loginRefusedHint:
        `The broker user ${username} was refused: the node may have been revoked, or its password ` +
        `rotated without this credentials file (${identity.credentialsFile}) being updated. Rotate with ` +
        'npm run agent:rotate-credentials, or enroll again with a new token (npm run agent:enroll).',
    },
    protocolVersion: PROTOCOL_VERSION,
    commandChecks: (sender) => {
      const accepted = new AcceptedCommands({ dir: config.dataDir, logger });
      const keys = new SigningKeys({
        initial: identity.signingKeys,
        fetchKeys: async () => (await fetchSigningKeys(identity.controlPlaneUrl)).items,
        save: (list) => saveSigningKeys(identity.credentialsFile, [...list]),
        logger,
      });
      const report = createCommandRejections({ sender, nodeId: config.nodeId, logger });
      return {
        gate: createVerifyingGate({ nodeId: config.nodeId, keys, accepted }),
        refuse: async (refusal, queueType) => {
          await report(refusal, queueType);
          return 'ack';
        },
        close: () => accepted.close(),
      };
    },
  };
}

/**
 * The login for each reconnect, from the credentials file as it is then. A file that is gone,
 * unreadable or names another node now is not followed (the running agent's queues and identity
 * are fixed at start): the last good password is used, and the problem logged.
 */
function loginFromFile(
  file: string,
  expected: { nodeId: string; username: string },
  initial: BrokerLogin,
  logger: Logger,
): () => BrokerLogin {
  let last = initial;
  return () => {
    try {
      const stored = readCredentialsFile(file);
      if (!stored) {
        logger.error(
          { credentialsFile: file },
          'credentials file gone; logging in with the password read before',
        );
      } else if (stored.nodeId !== expected.nodeId || stored.broker.username !== expected.username) {
        logger.error(
          { credentialsFile: file, nodeId: stored.nodeId },
          'the credentials file names another node now; restart the agent to use it',
        );
      } else {
        last = { username: stored.broker.username, password: stored.broker.password };
      }
    } catch (error) {
      logger.error(
        { err: error },
        'cannot read the credentials file; logging in with the password read before',
      );
    }
    return last;
  };
}
