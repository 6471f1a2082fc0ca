import { EventEmitter } from 'node:events';
import { Connection } from 'rabbitmq-client';
import type { Logger } from 'pino';

/**
 * rabbitmq-client's reconnect backoff, for the connection and each consumer's channel: a random
 * wait between `retryLow` and min(retryHigh, retryLow · 2^attempt), so the agent is back within
 * ~2 s of the broker (docs/reliability.md, "Broker outages").
 */
export const BROKER_RECONNECT_BACKOFF = { retryLow: 200, retryHigh: 2000 } as const;

export interface BrokerLogin {
  username: string;
  password: string;
}

export interface ConnectionOptions {
  /**
   * Called before every reconnect: the login to use (an enrolled agent reads its credentials file
   * again, so that a password rotated by the CLI is used from the next connection on).
   */
  login?: () => BrokerLogin;
  /** What an operator should do when the broker refuses the login (logged as an error). */
  loginRefusedHint: string;
}

/**
 * The agent's one broker connection. It reconnects on its own (BROKER_RECONNECT_BACKOFF), also
 * after a refused login; consumers and the publishers built on it declare their topology again
 * after each reconnect.
 */
export function createConnection(
  url: string,
  connectionName: string,
  logger: Logger,
  options: ConnectionOptions,
): Connection {
  // noDelay: reports are small frames; with Nagle's algorithm on, one waits for the broker's
  // delayed ACK (~40 ms) whenever another is in flight.
  const connection = new Connection({ url, connectionName, ...BROKER_RECONNECT_BACKOFF, noDelay: true });
  // rabbitmq-client reports only the first failure of a series; refusals are caught on each attempt.
  let lastRefusalLogged = Number.NEGATIVE_INFINITY;
  const loginRefused = (error: unknown) => {
    if (Date.now() - lastRefusalLogged < LOGIN_REFUSED_LOG_INTERVAL_MS) return;
    lastRefusalLogged = Date.now();
    logger.error(
      { err: error },
      `the broker refused the agent's login; retrying. ${options.loginRefusedHint}`,
    );
  };
  hookConnectionAttempts(connection, {
    login: options.login,
    onAttemptError: (error) => {
      if (isLoginRefused(error)) loginRefused(error);
    },
  });
  connection.on('error', (error: unknown) => {
    if (isLoginRefused(error)) loginRefused(error);
    else logger.warn({ err: error }, 'broker connection error; reconnecting');
  });
  connection.on('connection', () => {
    lastRefusalLogged = Number.NEGATIVE_INFINITY;
    logger.info('connected to the broker');
  });
  connection.on('connection.blocked', (reason) => logger.warn({ reason }, 'broker blocked publishing'));
  connection.on('connection.unblocked', () => logger.info('broker unblocked publishing'));
  return connection;
}

/** A refused login is retried every couple of seconds; it is logged at most this often. */
const LOGIN_REFUSED_LOG_INTERVAL_MS = 30_000;

export function isLoginRefused(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'ACCESS_REFUSED';
}

/** What rabbitmq-client keeps of its options and how it connects; not part of its typings. */
interface ConnectionInternals {
  _opt?: { username?: unknown; password?: unknown };
  _connect?: () => unknown;
}

/**
 * rabbitmq-client reads the username and password from its options at each connection attempt
 * (`_connect`, on a timer after a loss) and offers no way to change them, nor to see every failed
 * attempt. Each attempt is wrapped: the login is set from `login()` first, and the attempt's socket
 * errors are handed to `onAttemptError`. Checked here, at start: should a new version of the client
 * move these, the agent fails to start instead of silently keeping a rotated-away password.
 */
function hookConnectionAttempts(
  connection: Connection,
  hooks: { login: (() => BrokerLogin) | undefined; onAttemptError(error: unknown): void },
): void {
  const internals = connection as unknown as ConnectionInternals;
  const connect = internals._connect;
  const opt = internals._opt;
  if (typeof connect !== 'function' || typeof opt !== 'object' || typeof opt.username !== 'string') {
    connection.unsafeDestroy();
    throw new Error('this rabbitmq-client version cannot re-read the broker login at reconnect');
  }
  internals._connect = () => {
    if (hooks.login) {
      const { username, password } = hooks.login();
      opt.username = username;
      opt.password = password;
    }
    const socket = connect.call(connection);
    if (socket instanceof EventEmitter) socket.on('error', (error: unknown) => hooks.onAttemptError(error));
    return socket;
  };
}
