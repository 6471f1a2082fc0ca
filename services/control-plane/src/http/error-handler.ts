import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Problem } from '@meridian/contracts/api/problem';
import { DomainError, InvalidFieldError, InvalidFieldsError, UnprocessableError } from '../domain/errors.js';
import { RateLimitedError } from '../domain/rate-limited-error.js';
import { isTransientDatabaseError } from '../persistence/database-errors.js';
import { PermissionDeniedError, UnauthenticatedError } from './auth-errors.js';
import type { HttpEnv } from './http-env.js';
import { buildProblem, kindOfStatus, PROBLEM_KINDS, problemResponse, type ProblemKind } from './problem.js';
import { rateLimitHeaderValues } from './rate-limit-headers.js';

export interface MappedError {
  problem: Problem;
  headers: Record<string, string>;
  /** True when the server is at fault: log the error, never show it. */
  isServerError: boolean;
}

const INTERNAL_DETAIL = 'an unexpected error occurred; quote the correlation id when reporting it';
const UNAVAILABLE_DETAIL = 'the database is unavailable; try again shortly';
/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

function isProblemKind(code: string): code is ProblemKind {
  return Object.hasOwn(PROBLEM_KINDS, code);
}

/** Maps anything a handler or middleware throws to the problem the caller sees. */
export function mapError(error: unknown): MappedError {
  const answer = (problem: Problem, headers: Record<string, string> = {}): MappedError => ({
    problem,
    headers,
    isServerError: problem.status >= 500,
  });
  if (error instanceof UnauthenticatedError) {
    return answer(buildProblem('unauthenticated', { detail: error.message }), {
      'WWW-Authenticate': 'Bearer',
    });
  }
  if (error instanceof PermissionDeniedError) {
    return answer(buildProblem('forbidden', { detail: error.message }));
  }
  if (error instanceof UnprocessableError) {
    const errors = error.field === undefined ? undefined : [{ field: error.field, message: error.message }];
    return answer(buildProblem('unprocessable', { detail: error.message, errors }));
  }
  if (error instanceof RateLimitedError) {
    return answer(buildProblem('rate_limited', { detail: error.message }), {
      'Retry-After': String(error.retryAfterSeconds),
      ...rateLimitHeaderValues(error.exceeded.status),
    });
  }
  if (error instanceof InvalidFieldError) {
    const field = `body.${error.field}`;
    return answer(
      buildProblem('validation', { detail: `invalid ${field}`, errors: [{ field, message: error.reason }] }),
    );
  }
  if (error instanceof InvalidFieldsError) {
    const errors = error.issues.map((issue) => ({ field: `body.${issue.field}`, message: issue.message }));
    const detail = error.detail ?? `invalid ${[...new Set(errors.map((e) => e.field))].join(', ')}`;
    return answer(buildProblem('validation', { detail, errors }));
  }
  if (error instanceof DomainError) {
    // not_found, conflict, and any other code named like a problem kind (rate_limited → 429).
    const { code } = error as DomainError;
    if (isProblemKind(code) && PROBLEM_KINDS[code].status < 500) {
      return answer(buildProblem(code, { detail: error.message }));
    }
  }
  if (error instanceof HTTPException && error.status < 500) {
    const kind = kindOfStatus(error.status);
    const problem = kind
      ? buildProblem(kind, { detail: error.message })
      : { type: 'about:blank', title: error.message || 'Client error', status: error.status };
    return answer(problem);
  }
  if (isTransientDatabaseError(error)) {
    // Unreachable, restarting, or a transaction that lost a race: the request may succeed later.
    return answer(buildProblem('unavailable', { detail: UNAVAILABLE_DETAIL }), {
      'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
  return answer(buildProblem('internal', { detail: INTERNAL_DETAIL }));
}

/** The app's `onError`; `logger` is used when the error came before the request had its own. */
export function errorHandler(logger: Logger): ErrorHandler<HttpEnv> {
  return (error, c) => {
    const mapped = mapError(error);
    if (mapped.isServerError) {
      const requestLogger = (c.get('logger') as Logger | undefined) ?? logger;
      const level = mapped.problem.status === 503 ? 'warn' : 'error';
      requestLogger[level]({ err: error, method: c.req.method, path: c.req.path }, 'request failed');
    }
    return problemResponse(c, mapped.problem, mapped.headers);
  };
}

export const handleNotFound: NotFoundHandler<HttpEnv> = (c) =>
  problemResponse(c, buildProblem('not_found', { detail: `no route matches ${c.req.method} ${c.req.path}` }));
