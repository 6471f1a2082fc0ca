import { Connection } from 'rabbitmq-client';
import type { Logger } from 'pino';

/**
 * The agent's one broker connection. It reconnects on its own (backoff 0.5 s to 10 s); consumers
 * and the publisher built on it declare their topology again after each reconnect.
 */
export function createConnection(url: string, connectionName: string, logger: Logger): Connection {
  // noDelay: reports are small frames; with Nagle's algorithm on, one waits for the broker's
  // delayed ACK (~40 ms) whenever another is in flight.
  const connection = new Connection({ url, connectionName, retryLow: 500, retryHigh: 10_000, noDelay: true });
  connection.on('error', (error: unknown) =>
    logger.warn({ err: error }, 'broker connection error; reconnecting'),
  );
  connection.on('connection', () => logger.info('connected to the broker'));
  connection.on('connection.blocked', (reason) => logger.warn({ reason }, 'broker blocked publishing'));
  connection.on('connection.unblocked', () => logger.info('broker unblocked publishing'));
  return connection;
}
