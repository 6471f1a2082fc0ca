import type { Hook } from '@hono/zod-openapi';
import type { Context, ValidationTargets } from 'hono';
import type { ZodError } from 'zod';
import type { Problem } from '@meridian/contracts/api/problem';
import type { HttpEnv } from './http-env.js';
import { buildProblem, problemResponse } from './problem.js';

type FieldError = NonNullable<Problem['errors']>[number];

/** How a validation target is named in `errors[].field`: `body.priority`, `query.limit`, `param.id`. */
const TARGET_NAMES: Record<keyof ValidationTargets, string> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'param',
  header: 'header',
  cookie: 'cookie',
};

export function fieldErrors(target: keyof ValidationTargets, error: ZodError): FieldError[] {
  const prefix = TARGET_NAMES[target];
  return error.issues.flatMap((issue): FieldError[] => {
    const field = [prefix, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: `${field}.${key}`, message: 'is not a known field' }));
    }
    return [{ field, message: issue.message }];
  });
}

/** The one `defaultHook` of the API: a failed validation becomes a 400 problem naming each field. */
export const validationHook: Hook<unknown, HttpEnv, string, Response | undefined> = (
  result,
  c: Context<HttpEnv>,
) => {
  if (result.success) return undefined;
  const errors = fieldErrors(result.target, result.error);
  const detail = `invalid ${[...new Set(errors.map((error) => error.field))].join(', ')}`;
  return problemResponse(c, buildProblem('validation', { detail, errors }));
};
