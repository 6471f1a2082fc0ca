import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Problem } from '@meridian/contracts/api/problem';
import type { HttpEnv } from './http-env.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The kinds of error the API answers with; each has one status, title and `type` URI. */
export const PROBLEM_KINDS = {
  // First of the 400s: what `kindOfStatus(400)` answers for Hono's "Malformed JSON" and the like.
  malformed_request: { status: 400, title: 'Malformed request' },
  validation: { status: 400, title: 'Request validation failed' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Permission denied' },
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export interface ProblemDetails {
  detail?: string;
  instance?: string;
  correlationId?: string;
  errors?: Problem['errors'];
}

/** `type` is a relative URI reference (RFC 9457 §3.1.1) naming the kind, e.g. `/problems/not-found`. */
export function problemType(kind: ProblemKind): string {
  return `/problems/${kind.replaceAll('_', '-')}`;
}

export function buildProblem(kind: ProblemKind, details: ProblemDetails = {}): Problem {
  const { status, title } = PROBLEM_KINDS[kind];
  const problem: Problem = { type: problemType(kind), title, status };
  if (details.detail !== undefined) problem.detail = details.detail;
  if (details.instance !== undefined) problem.instance = details.instance;
  if (details.correlationId !== undefined) problem.correlationId = details.correlationId;
  if (details.errors !== undefined && details.errors.length > 0) problem.errors = details.errors;
  return problem;
}

/** The first problem kind with `status`, for errors that carry only a status (Hono's HTTPException). */
export function kindOfStatus(status: number): ProblemKind | undefined {
  const kinds = Object.keys(PROBLEM_KINDS) as ProblemKind[];
  return kinds.find((kind) => PROBLEM_KINDS[kind].status === status);
}

/** Sends `problem` as `application/problem+json`, filling in the request's instance and correlation id. */
export function problemResponse(
  c: Context<HttpEnv>,
  problem: Problem,
  headers: Record<string, string> = {},
): Response {
  const body: Problem = {
    ...problem,
    instance: problem.instance ?? c.req.path,
    correlationId: problem.correlationId ?? c.get('correlationId'),
  };
  return c.body(JSON.stringify(body), problem.status as ContentfulStatusCode, {
    ...headers,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}
