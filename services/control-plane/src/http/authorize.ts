import type { Context, MiddlewareHandler } from 'hono';
import type { Actor } from '../app/actor.js';
import type { Authenticator } from './auth.js';
import { PermissionDeniedError, UnauthenticatedError } from './auth-errors.js';
import type { HttpEnv } from './http-env.js';

export type Permission =
  | 'task:read'
  | 'task:write'
  | 'task:trigger'
  | 'task:reschedule'
  | 'task:read-events'
  | 'node:read'
  | 'node:admin'
  | 'admin:dead-letters'
  /** Create, change and delete global templates (visible to every organisation). */
  | 'template:admin';

/** Verifies the bearer token of every request it guards and puts the caller in the context. */
export function authenticate(auth: Authenticator): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const actor = await auth.verifyBearer(c.req.header('Authorization'), c.get('correlationId'));
    c.set('actor', actor);
    await next();
  };
}

/** Route middleware: refuses callers without `permission` before the request is validated. */
export function requirePermission(permission: Permission): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (!actorOf(c).permissions.has(permission)) throw new PermissionDeniedError(permission);
    await next();
  };
}

/**
 * The `middleware` and the OpenAPI statement of a route's permission, spread into `createRoute`:
 * the document names each operation's permission in `x-required-permission`.
 */
export function requiresPermission(permission: Permission) {
  return { middleware: requirePermission(permission), 'x-required-permission': permission } as const;
}

/** The authenticated caller; a route mounted outside `authenticate` fails closed with 401. */
export function actorOf(c: Context<HttpEnv>): Actor {
  const actor = c.get('actor');
  if (!actor) throw new UnauthenticatedError('a bearer token is required');
  return actor;
}
