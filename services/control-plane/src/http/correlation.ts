import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { HttpEnv } from './http-env.js';

export const CORRELATION_HEADER = 'X-Correlation-Id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/** The caller's correlation id when it is safe to log and store, otherwise a new UUID. */
export function resolveCorrelationId(
  header: string | undefined,
  generate: () => string = randomUUID,
): string {
  return header !== undefined && CORRELATION_ID.test(header) ? header : generate();
}

/**
 * Gives every request a correlation id and a logger carrying it, and returns the id in the
 * `X-Correlation-Id` header of every response, errors included (they are set by `onError`
 * before this middleware resumes).
 */
export function correlation(logger: Logger): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const correlationId = resolveCorrelationId(c.req.header(CORRELATION_HEADER));
    c.set('correlationId', correlationId);
    c.set('logger', logger.child({ correlationId }));
    await next();
    c.header(CORRELATION_HEADER, correlationId);
  };
}
