import pino, { type DestinationStream, type Logger } from 'pino';
import { serializeError } from '@meridian/contracts/logging/serialize-error';

/**
 * JSON logs. Errors go under `err` and keep only their kind, code, a bounded message and the stack
 * (never a failed statement's SQL or parameters, nor a message body): see serialize-error.ts.
 */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    name,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}
