import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';

/**
 * A plain AMQP client under some login (a node's own, the old shared one, the administrator's),
 * for tests that do what a hostile agent would and look at what the broker lets through.
 */
export async function connectAs(amqpUrl: string): Promise<ChannelModel> {
  const connection = await connect(amqpUrl, { timeout: 5_000 });
  // A refused operation closes its channel, not the connection; anything else shows in the test.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * Runs `act` on a confirm channel of its own and returns how the broker refused it (the message of
 * the channel's closing, e.g. `403 (ACCESS-REFUSED)`), or undefined when it let it through.
 */
export async function brokerRefusal(
  connection: ChannelModel,
  act: (channel: ConfirmChannel) => Promise<unknown>,
): Promise<string | undefined> {
  const channel = await connection.createConfirmChannel();
  let closedWith: string | undefined;
  channel.on('error', (error: Error) => {
    closedWith = error.message;
  });
  const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
  try {
    await act(channel);
  } catch (error) {
    // The server's close frame may arrive just after the operation's own rejection.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    return closedWith ?? (error instanceof Error ? error.message : String(error));
  }
  await channel.close().catch(() => undefined);
  return closedWith;
}

export interface RawMessage {
  exchange: string;
  routingKey: string;
  body: Buffer | string | object;
  messageId?: string;
  type?: string;
  /** The AMQP `user_id` property: the broker refuses one that is not the connection's user. */
  userId?: string;
  headers?: Record<string, unknown>;
}

/** Publishes one message and waits for the broker's confirm (rejects when it refuses it). */
export async function publishConfirmed(channel: ConfirmChannel, message: RawMessage): Promise<void> {
  const body = Buffer.isBuffer(message.body)
    ? message.body
    : Buffer.from(typeof message.body === 'string' ? message.body : JSON.stringify(message.body));
  channel.publish(message.exchange, message.routingKey, body, {
    contentType: 'application/json',
    persistent: true,
    messageId: message.messageId ?? randomUUID(),
    ...(message.type === undefined ? {} : { type: message.type }),
    ...(message.userId === undefined ? {} : { userId: message.userId }),
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  });
  await channel.waitForConfirms();
}
