import type { Logger } from 'pino';
import { Connection } from 'rabbitmq-client';

/**
 * rabbitmq-client's reconnect backoff, for the connection and for each consumer's channel: a
 * random wait between `retryLow` and min(retryHigh, retryLow · 2^attempt). Its defaults (1 s to
 * 30 s) left the control plane 4–25 s without a connection after a 10 s broker restart; with these
 * it is back within ~2 s of the broker. docs/reliability.md, "Broker outages".
 */
export const BROKER_RECONNECT_BACKOFF = { retryLow: 200, retryHigh: 2000 } as const;

/** The control plane's one broker connection; it reconnects on its own. */
export function createBrokerConnection(url: string, logger: Logger): Connection {
  // noDelay: commands are small frames; with Nagle's algorithm on, one waits for the broker's
  // delayed ACK (~40 ms) whenever another is in flight.
  const connection = new Connection({
    url,
    connectionName: 'meridian-control-plane',
    noDelay: true,
    ...BROKER_RECONNECT_BACKOFF,
  });
  connection.on('error', (error) => logger.error({ err: error }, 'broker connection error'));
  connection.on('connection', () => logger.info('broker connected'));
  connection.on('connection.blocked', (reason) => logger.warn({ reason }, 'broker blocked publishing'));
  connection.on('connection.unblocked', () => logger.info('broker unblocked publishing'));
  return connection;
}
