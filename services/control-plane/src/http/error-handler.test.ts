import { HTTPException } from 'hono/http-exception';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DomainError,
  InvalidFieldError,
  NotFoundError,
  UnprocessableError,
} from '../domain/errors.js';
import { RateLimitedError } from '../domain/rate-limited-error.js';
import { PermissionDeniedError, UnauthenticatedError } from './auth-errors.js';
import { mapError } from './error-handler.js';

describe('mapError', () => {
  it.each([
    [new NotFoundError('task', 't-1'), 404, 'task t-1 was not found'],
    [new ConflictError('cannot Cancel a Completed task'), 409, 'cannot Cancel a Completed task'],
    [new DomainError('rate_limited', 'slow down'), 429, 'slow down'],
    [new PermissionDeniedError('task:write'), 403, 'this request needs the "task:write" permission'],
    [
      new HTTPException(400, { message: 'Malformed JSON in request body' }),
      400,
      'Malformed JSON in request body',
    ],
    [new HTTPException(415, { message: 'Unsupported Media Type' }), 415, 'Unsupported Media Type'],
  ])('maps %o to %i', (error, status, detail) => {
    const { problem, isServerError } = mapError(error);
    expect(problem).toMatchObject({ status, detail });
    expect(problem.type).toMatch(/^\/problems\//);
    expect(isServerError).toBe(false);
  });

  it('maps an unprocessable error to 422 naming the field', () => {
    const { problem } = mapError(new UnprocessableError('nodeId may hold letters only', 'nodeId'));
    expect(problem).toMatchObject({
      status: 422,
      errors: [{ field: 'nodeId', message: 'nodeId may hold letters only' }],
    });
  });

  it('maps a rate-limit refusal to 429 naming the limit, with Retry-After and the RateLimit headers', () => {
    const error = new RateLimitedError({
      name: 'per-user',
      subject: 'org-1:alice',
      limit: 1000,
      windowSeconds: 3600,
      used: 1000,
      requested: 1,
      retryAfterSeconds: 1200,
      status: { name: 'per-user', limit: 1000, remaining: 0, resetSeconds: 1200, windowSeconds: 3600 },
    });
    const { problem, headers, isServerError } = mapError(error);
    expect(problem).toEqual({
      type: '/problems/rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'per-user trigger limit of 1000 per hour reached',
    });
    expect(headers).toEqual({
      'Retry-After': '1200',
      'RateLimit-Limit': '1000',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '1200',
    });
    expect(isServerError).toBe(false);
  });

  it('maps an invalid body field to 400 naming it, like the route schemas do', () => {
    const { problem } = mapError(new InvalidFieldError('delay', 'must be more than 0'));
    expect(problem).toMatchObject({
      status: 400,
      type: '/problems/validation',
      detail: 'invalid body.delay',
      errors: [{ field: 'body.delay', message: 'must be more than 0' }],
    });
  });

  it('asks for a bearer token on 401', () => {
    const { problem, headers } = mapError(new UnauthenticatedError('the token has expired'));
    expect(problem).toMatchObject({ status: 401, detail: 'the token has expired' });
    expect(headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it.each([
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('Connection terminated unexpectedly'),
    new QueryFailedError(
      'SELECT * FROM tasks WHERE org_id = $1',
      ['org-1'],
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    ),
    Object.assign(new Error('deadlock detected'), { code: '40P01' }),
  ])('answers 503 with Retry-After while the database is unavailable (%o)', (error) => {
    const { problem, headers, isServerError } = mapError(error);
    expect(problem).toMatchObject({
      status: 503,
      type: '/problems/unavailable',
      title: 'Service unavailable',
    });
    expect(problem.detail).toMatch(/database is unavailable/);
    expect(JSON.stringify(problem)).not.toMatch(/org|SELECT|5432|terminating/);
    expect(headers).toEqual({ 'Retry-After': '5' });
    expect(isServerError).toBe(true);
  });

  it.each([
    new Error('relation "tasks" does not exist'),
    new DomainError('mystery', 'internal state x'),
    new HTTPException(502, { message: 'upstream at 10.0.0.1 failed' }),
    'a thrown string',
  ])('hides %o behind a generic 500', (error) => {
    const { problem, isServerError } = mapError(error);
    expect(problem.status).toBe(500);
    expect(problem.detail).toMatch(/unexpected error/);
    expect(JSON.stringify(problem)).not.toMatch(/tasks|internal state|10\.0\.0\.1|thrown/);
    expect(isServerError).toBe(true);
  });
});
