import type { Logger } from 'pino';
import type { Connection, Publisher, ReturnedMessage } from 'rabbitmq-client';
import type { DataSource } from 'typeorm';
import { outboxRetryDelayMs } from '../domain/outbox-retry-delay.js';
import { WorkLoop } from '../scheduler/work-loop.js';
import { relayOutboxBatch, type CommandSigning, type ReturnedCommand } from './outbox-relay.js';
import { isCommandType } from './returned-commands.js';

export interface OutboxRelayDeps {
  dataSource: DataSource;
  connection: Connection;
  /** The command publisher: confirms on, one attempt per send (the outbox retries, with backoff). */
  publisher: Publisher;
  logger: Logger;
  batchSize: number;
  /** Passes waiting for confirms at once. */
  concurrency: number;
  /** Safety-net polling; NOTIFY, the broker's return and due retries wake the relay sooner. */
  intervalMs: number;
  publishTimeoutMs: number;
  random: () => number;
  /** Signs every ExecuteTask and CancelTask just before it is published. */
  commandSigning: CommandSigning;
  /** Commands the broker confirmed but returned as unroutable: they never reached a node. */
  onReturned: (commands: ReturnedCommand[]) => Promise<void>;
}

/**
 * Starts the outbox relay loop. While the broker connection is down (or blocked) a pass claims nothing and
 * returns at once (the rows stay unsent, their attempts untouched), so the loop neither spins nor
 * holds rows locked waiting for a connection; the connection's `connection` event wakes it as soon
 * as the broker is back. After a pass with failures, a wake is set for when the first row is due.
 */
export function startOutboxRelay(deps: OutboxRelayDeps): WorkLoop {
  const { connection, publisher, logger } = deps;
  const returned = new Map<string, ReturnedCommand>();
  // rabbitmq-client reports returned (mandatory, unroutable) messages as an event; its
  // `onReturn` option is not wired to anything.
  publisher.on('basic.return', (message: ReturnedMessage) => {
    // A LogLinesStored comes back whenever no replica watches its execution: nothing to do.
    if (!isCommandType(message.type)) return;
    const messageId = message.messageId ?? '';
    logger.warn(
      { messageId, routingKey: message.routingKey, type: message.type },
      'broker returned a command',
    );
    returned.set(messageId, {
      messageId,
      type: message.type ?? '',
      routingKey: message.routingKey,
      body: message.body as ReturnedCommand['body'],
    });
  });

  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = Infinity;
  const wakeIn = (ms: number) => {
    const at = Date.now() + ms;
    if (retryTimer && retryAt <= at) return;
    clearTimeout(retryTimer);
    retryAt = at;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryAt = Infinity;
      loop.wake();
    }, ms);
    retryTimer.unref();
  };

  const loop = new WorkLoop({
    name: 'outbox-relay',
    batchSize: deps.batchSize,
    intervalMs: deps.intervalMs,
    // Publisher confirms of persistent messages wait for the broker's disk (tens of ms under load);
    // passes claim rows with SKIP LOCKED, so several can wait at once.
    concurrency: deps.concurrency,
    logger,
    pass: async () => {
      if (!connection.ready) return 0;
      const result = await relayOutboxBatch(deps.dataSource, publisher, returned, {
        batchSize: deps.batchSize,
        publishTimeoutMs: deps.publishTimeoutMs,
        retryDelayMs: (failures) => outboxRetryDelayMs(failures, deps.random()),
        commandSigning: deps.commandSigning,
        logger,
      });
      if (result.retryInMs !== undefined) wakeIn(result.retryInMs);
      if (result.returned.length > 0) await deps.onReturned(result.returned);
      return result.published;
    },
  });
  connection.on('connection', () => loop.wake());
  // While the broker blocks publishers (a memory or disk alarm) the connection is not `ready` either.
  connection.on('connection.unblocked', () => loop.wake());
  loop.start();
  return loop;
}
