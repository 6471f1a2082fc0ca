import type { MiddlewareHandler } from 'hono';
import type { HttpEnv } from './http-env.js';

/** One info line per request once it is answered: method, path, status and duration. */
export function requestLog(): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    c.get('logger').info({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  };
}
