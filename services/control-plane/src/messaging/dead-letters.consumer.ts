import type { AsyncMessage, Connection, Consumer } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import type { Topology } from '@meridian/contracts/topology';
import type { KeyObject } from 'node:crypto';
import { describeDeadLetter, type DeadLetterRecord } from '../domain/dead-letter-record.js';
import { verifiedOriginalSender } from '../security/original-sender.js';
import { controlPlaneDeclarations } from './broker-topology.js';
import { rawBody } from './dead-letter.js';

export interface DeadLetterConsumersOptions {
  connection: Connection;
  topology: Topology;
  logger: Logger;
  /** Bodies past this many bytes are kept cut, with their size. */
  bodyMaxBytes: number;
  store: (record: DeadLetterRecord) => Promise<unknown>;
  /** The keys whose signature on a dead letter's original-sender headers is believed. */
  verifyKeys: ReadonlyMap<string, KeyObject>;
  /** Deliveries in flight per queue; each holds a database connection while it is stored. */
  prefetch?: number;
  /** First and longest wait between attempts to store a dead letter. */
  retryDelayMs?: { first: number; max: number };
}

export interface DeadLetterConsumers {
  consumers: Consumer[];
  close(): Promise<void>;
}

const HEADERS_MAX_BYTES = 8192;

/**
 * Reads the agent-events and logs dead-letter queues into the `dead_letters` table, acking each
 * message after its row is committed. A dead letter is never dropped: when it cannot be stored (the
 * database is away) it stays unacked and the store is tried again, with backoff, until it works or
 * the consumer closes (the broker then hands it out again). Nothing is requeued meanwhile, so a
 * delivery limit on these queues is never reached by an outage.
 */
export function startDeadLetterConsumers(options: DeadLetterConsumersOptions): DeadLetterConsumers {
  const { topology } = options;
  const logger = options.logger.child({ component: 'dead-letters-consumer' });
  const declarations = controlPlaneDeclarations(topology);
  const closing = new AbortController();
  const retry = options.retryDelayMs ?? { first: 250, max: 5000 };
  const prefetch = options.prefetch ?? 8;

  const sources = [
    { queue: declarations.deadLetterQueue, sourceExchange: topology.agentEventsExchange },
    { queue: declarations.logsDeadLetterQueue, sourceExchange: topology.logsExchange },
  ];
  const consumers = sources.map(({ queue, sourceExchange }) => {
    const consumer = options.connection.createConsumer(
      {
        queue: queue.queue,
        queueOptions: queue,
        qos: { prefetchCount: prefetch },
        concurrency: prefetch,
        requeue: true,
        exchanges: declarations.exchanges,
        queueBindings: declarations.queueBindings.filter((binding) => binding.queue === queue.queue),
      },
      async (message) => {
        const body = readBody(message);
        const record = describeDeadLetter(
          {
            queue: queue.queue,
            sourceExchange,
            messageId: message.messageId,
            type: message.type,
            correlationId: message.correlationId,
            headers: message.headers,
            body,
            receivedAt: new Date(),
            sender: senderOfDeadLetter(message, body, options.verifyKeys),
          },
          { bodyMaxBytes: options.bodyMaxBytes, headersMaxBytes: HEADERS_MAX_BYTES },
        );
        await storeUntilDone(
          () => options.store(record),
          retry,
          closing.signal,
          (error, attempt) =>
            logger.warn(
              { err: error, attempt, queue: queue.queue, messageId: record.messageId },
              'dead letter not stored yet; keeping it unacked and trying again',
            ),
        );
        logger.info(
          {
            queue: queue.queue,
            messageId: record.messageId,
            type: record.messageType,
            reason: record.reason,
          },
          'dead letter recorded',
        );
        return ConsumerStatus.ACK;
      },
    );
    consumer.on('error', (error) =>
      logger.error({ err: error, queue: queue.queue }, 'dead-letter consumer error'),
    );
    return consumer;
  });

  return {
    consumers,
    async close() {
      closing.abort();
      await Promise.all(consumers.map((consumer) => consumer.close()));
    },
  };
}

/**
 * The original sender of a dead letter: named in headers signed by the control plane that
 * dead-lettered it, or the AMQP `user_id` the broker kept when it dead-lettered the message itself
 * (delivery limit); null when neither vouches for one.
 */
function senderOfDeadLetter(
  message: AsyncMessage,
  body: Buffer | null,
  keys: ReadonlyMap<string, KeyObject>,
): string | null {
  const signed = body ? verifiedOriginalSender(message.headers, message.messageId, body, keys) : null;
  return signed ?? (message.userId || null);
}

/** The body as received; null when the client decoded JSON it cannot encode again (nested too deep). */
function readBody(message: AsyncMessage): Buffer | null {
  try {
    return rawBody(message);
  } catch {
    return null;
  }
}

async function storeUntilDone(
  store: () => Promise<unknown>,
  delay: { first: number; max: number },
  signal: AbortSignal,
  onFailure: (error: unknown, attempt: number) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await store();
      return;
    } catch (error) {
      // Closing: the delivery goes back to the queue (nack with requeue) rather than be lost.
      if (signal.aborted) throw error;
      onFailure(error, attempt);
      await sleep(Math.min(delay.first * 2 ** (attempt - 1), delay.max), signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
