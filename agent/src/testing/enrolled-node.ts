import type { ConfirmChannel } from 'amqplib';
import { EXCHANGE_TYPES, NODE_QUEUE_ARGUMENTS, topology } from '@meridian/contracts/topology';
import { defaultCredentialsFile, writeCredentialsFile } from '../identity/credentials-file.js';
import { CommandSigner } from './command-signer.js';
import { startScriptedAgentApi, type ScriptedAgentApi } from './scripted-agent-api.js';

export interface EnrolledNode {
  /** The control plane's signing key, as far as the agent knows. */
  signer: CommandSigner;
  controlPlane: ScriptedAgentApi;
  credentialsFile: string;
}

/**
 * What enrollment leaves behind for a harness agent: its credentials file (its broker user, one
 * trusted signing key, the control plane api's URL), and its two queues declared and bound as the
 * control plane's credentials sync does.
 */
export async function enrollHarnessNode(options: {
  channel: ConfirmChannel;
  prefix: string;
  nodeId: string;
  dataDir: string;
  labels: Record<string, string>;
  /** The node's broker user (default guest, which the shared broker lets set `user_id` guest). */
  broker?: { username: string; password: string };
}): Promise<EnrolledNode> {
  const { channel, prefix, nodeId } = options;
  const names = topology(prefix);
  await channel.assertExchange(names.commandsExchange, EXCHANGE_TYPES.commands, { durable: true });
  for (const [queue, key] of [
    [names.nodeWorkQueue(nodeId), names.nodeWorkKey(nodeId)],
    [names.nodeControlQueue(nodeId), names.nodeControlKey(nodeId)],
  ] as const) {
    await channel.assertQueue(queue, { durable: true, arguments: { ...NODE_QUEUE_ARGUMENTS } });
    await channel.bindQueue(queue, names.commandsExchange, key);
  }
  const signer = new CommandSigner();
  const credentials = {
    nodeId,
    orgId: 'org-test',
    topologyPrefix: prefix,
    broker: options.broker ?? { username: 'guest', password: 'guest' },
    signingKeys: [signer.publicKey],
    labels: options.labels,
    issuedAt: new Date().toISOString(),
  };
  const controlPlane = await startScriptedAgentApi(credentials);
  const credentialsFile = defaultCredentialsFile(options.dataDir);
  writeCredentialsFile(credentialsFile, {
    ...credentials,
    controlPlaneUrl: controlPlane.url,
    enrolledAt: new Date().toISOString(),
  });
  return { signer, controlPlane, credentialsFile };
}
