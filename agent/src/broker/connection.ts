import { Connection } from 'rabbitmq-client';
import type { Logger } from 'pino';

/**
 * rabbitmq-client's reconnect backoff, for the connection and each consumer's channel: a random
 * wait between `retryLow` and min(retryHigh, retryLow · 2^attempt), so the agent is back within
 * ~2 s of the broker (docs/reliability.md, "Broker outages").
 */
export const BROKER_RECONNECT_BACKOFF = { retryLow: 200, retryHigh: 2000 } as const;

/**
 * The agent's one broker connection. It reconnects on its own (BROKER_RECONNECT_BACKOFF); consumers
 * and the publisher built on it declare their topology again after each reconnect.
 */
export function createConnection(url: string, connectionName: string, logger: Logger): Connection {
  // noDelay: reports are small frames; with Nagle's algorithm on, one waits for the broker's
  // delayed ACK (~40 ms) whenever another is in flight.
  const connection = new Connection({ url, connectionName, ...BROKER_RECONNECT_BACKOFF, noDelay: true });
  connection.on('error', (error: unknown) =>
    logger.warn({ err: error }, 'broker connection error; reconnecting'),
  );
  connection.on('connection', () => logger.info('connected to the broker'));
  connection.on('connection.blocked', (reason) => logger.warn({ reason }, 'broker blocked publishing'));
  connection.on('connection.unblocked', () => logger.info('broker unblocked publishing'));
  return connection;
}
