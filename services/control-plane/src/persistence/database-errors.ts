/**
 * Tells a failure of the database itself (unreachable, restarting, overloaded, a transaction that
 * lost a race) from an error that the statement or its data caused. The first kind goes away when
 * the database answers again and says nothing about the message being applied; the second comes
 * back every time. Pure: it reads the error's fields only.
 */

/** SQLSTATE classes whose every code is transient: connection exception, insufficient resources. */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53'];

/** Single SQLSTATEs that are transient (PostgreSQL appendix A). */
const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '57P05', // idle_session_timeout
  '58000', // system_error (an I/O failure of the server, not of the statement)
  '58030', // io_error
]);

/** Socket and resolver errors of Node: the server cannot be reached (yet). */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Messages of node-postgres and its pool that carry no code: a lost or refused connection, a pool
 * that could not get one in time, a pool or client that can no longer be used (the process is
 * stopping: the message is not at fault either).
 */
const TRANSIENT_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^timeout expired/,
  /^Query read timeout/,
  /is not queryable$/,
  /^Cannot use a pool after calling end on the pool/,
];

/** TypeORM's errors for a data source that is not (or no longer) connected. */
const TRANSIENT_TYPEORM_ERRORS = new Set([
  'CannotExecuteNotConnectedError',
  'ConnectionIsNotSetError',
  'CannotGetEntityManagerNotConnectedError',
]);

const MAX_DEPTH = 5;

/**
 * True when `error` (or what it wraps: TypeORM's `driverError`, a `cause`, the errors of an
 * AggregateError such as Node's connect failure on several addresses) says the database could not
 * be reached or could not complete the work for a reason of its own.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  return visit(error, 0);
}

function visit(error: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || typeof error !== 'object' || error === null) return false;
  const fields = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof fields.code === 'string' && isTransientCode(fields.code)) return true;
  if (typeof fields.name === 'string' && TRANSIENT_TYPEORM_ERRORS.has(fields.name)) return true;
  if (
    typeof fields.message === 'string' &&
    TRANSIENT_MESSAGES.some((re) => re.test(fields.message as string))
  ) {
    return true;
  }
  if (visit(fields.driverError, depth + 1) || visit(fields.cause, depth + 1)) return true;
  return Array.isArray(fields.errors) && fields.errors.some((inner) => visit(inner, depth + 1));
}

function isTransientCode(code: string): boolean {
  if (TRANSIENT_SYSTEM_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}
