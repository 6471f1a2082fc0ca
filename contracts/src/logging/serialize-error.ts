/**
 * What an error may put in a log line, for the control plane's and the agent's pino `err`
 * serializer. Database and broker errors carry far more than their cause: TypeORM's
 * QueryFailedError holds the SQL and every parameter of the statement (other organisations' data,
 * log lines of megabytes), node-postgres errors a `detail` with row values, and a thrown value may
 * be a whole message body. Only the kind of error, its code, a bounded message and the stack frames
 * are kept; a cause (or the errors of an AggregateError) is kept the same way, a few levels deep.
 */

/** Characters of an error's message kept in a log line. */
export const LOGGED_MESSAGE_MAX_CHARS = 500;
const MAX_STACK_FRAMES = 15;
const MAX_DEPTH = 3;
const MAX_INNER_ERRORS = 5;

export interface SerializedError {
  type: string;
  message: string;
  code?: string | number;
  errno?: number;
  syscall?: string;
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
}

/** Cuts `text` to `max` characters, saying how many were left out. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (typeof error !== 'object' || error === null) {
    return { type: typeof error, message: truncateText(String(error), LOGGED_MESSAGE_MAX_CHARS) };
  }
  const fields = error as Record<string, unknown>;
  const type = typeName(error);
  const message = truncateText(
    typeof fields['message'] === 'string' ? fields['message'] : '',
    LOGGED_MESSAGE_MAX_CHARS,
  );
  const serialized: SerializedError = { type, message };
  const code = fields['code'];
  if (typeof code === 'string') serialized.code = code.slice(0, 64);
  else if (typeof code === 'number') serialized.code = code;
  if (typeof fields['errno'] === 'number') serialized.errno = fields['errno'];
  if (typeof fields['syscall'] === 'string') serialized.syscall = fields['syscall'].slice(0, 64);
  if (typeof fields['stack'] === 'string')
    serialized.stack = stackFrames(`${type}: ${message}`, fields['stack']);
  if (depth < MAX_DEPTH) {
    // TypeORM keeps the driver's error apart from `cause`; it is the one worth keeping.
    const inner = fields['driverError'] ?? fields['cause'];
    if (inner !== undefined && inner !== error) serialized.cause = serializeError(inner, depth + 1);
    if (Array.isArray(fields['errors'])) {
      serialized.errors = fields['errors']
        .slice(0, MAX_INNER_ERRORS)
        .map((inner: unknown) => serializeError(inner, depth + 1));
    }
  }
  return serialized;
}

/**
 * A one-line reason for a dead letter or a log field: the error's kind, its code and the start of
 * its message, e.g. `QueryFailedError 22P05: unsupported Unicode escape sequence`.
 */
export function summarizeError(error: unknown, maxChars = 200): string {
  const { type, code, message } = serializeError(error, MAX_DEPTH);
  const head = code === undefined ? type : `${type} ${code}`;
  return truncateText(message ? `${head}: ${message.replace(/\s+/g, ' ')}` : head, maxChars);
}

function typeName(error: object): string {
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && name !== 'Error' && name.length <= 64) return name;
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof constructorName === 'string' && constructorName.length <= 64 ? constructorName : 'Error';
}

/** The stack's `at …` frames under a first line rebuilt from the bounded message. */
function stackFrames(firstLine: string, stack: string): string {
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => line.slice(0, 300));
  return [firstLine, ...frames].join('\n');
}
