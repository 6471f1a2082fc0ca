import { connect as connectAmqp } from 'amqplib';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { topology } from '@meridian/contracts/topology';

export interface BrokerObjects {
  /** Queue names; defaults to the control plane's queues of the prefix plus those of `nodeIds`. */
  queues?: string[];
  /** Exchange names; defaults to the exchanges of the prefix. */
  exchanges?: string[];
  /** Nodes whose work and control queues are deleted along with the defaults. */
  nodeIds?: string[];
}

/**
 * Deletes a test's queues and exchanges by name (AMQP has no "delete by prefix"). Every name must
 * start with `<prefix>.`, so that a mistake cannot delete another test's or a deployment's objects.
 * Missing objects are not an error.
 */
export async function deleteBrokerObjects(
  amqpUrl: string,
  prefix: string,
  objects: BrokerObjects = {},
): Promise<void> {
  const names = topology(prefix);
  const nodeQueues = (objects.nodeIds ?? []).flatMap((id) => [
    names.nodeWorkQueue(id),
    names.nodeControlQueue(id),
  ]);
  const queues = objects.queues ?? [
    names.agentEventsQueue,
    names.agentEventsDeadLetterQueue,
    names.logsQueue,
    names.logsDeadLetterQueue,
    ...nodeQueues,
  ];
  const exchanges = objects.exchanges ?? [
    names.commandsExchange,
    names.agentEventsExchange,
    names.deadLetterExchange,
    names.logsExchange,
    names.liveLogsExchange,
    names.eventsExchange,
  ];
  const outside = [...queues, ...exchanges].filter((name) => !name.startsWith(`${prefix}.`));
  if (outside.length > 0) {
    throw new Error(`refusing to delete broker objects outside prefix ${prefix}: ${outside.join(', ')}`);
  }

  const connection = await connectAmqp(amqpUrl, { timeout: 5_000 });
  try {
    let channel = await openChannel(connection);
    // A failed delete closes the channel (AMQP channel error): open a new one and go on.
    const attempt = async (remove: (ch: Channel) => Promise<unknown>) => {
      try {
        await remove(channel);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        channel = await openChannel(connection);
      }
    };
    for (const queue of queues) await attempt((ch) => ch.deleteQueue(queue));
    for (const exchange of exchanges) await attempt((ch) => ch.deleteExchange(exchange));
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close();
  }
}

/**
 * One basic.get on a channel of its own: undefined while the queue is empty or not declared yet.
 * The control plane's publisher declares the dead-letter queues on its first send, which may come
 * after a test first looks, and a get on a missing queue closes the channel it ran on.
 */
export async function getMessage(connection: ChannelModel, queue: string): Promise<GetMessage | undefined> {
  const channel = await openChannel(connection);
  try {
    return (await channel.get(queue, { noAck: true })) || undefined;
  } catch (error) {
    // amqplib rejects a basic.get with the channel.close frame itself.
    const replyCode = (error as { fields?: { replyCode?: unknown } } | null)?.fields?.replyCode;
    if (isNotFound(error) || replyCode === 404) return undefined;
    throw error;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // reported through the rejected operation instead
  return channel;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}
