import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { compileLinearRegExp } from '@meridian/contracts/linear-regexp';

const linearRegExpEngine = Object.assign(
  (pattern: string, flags: string) => compileLinearRegExp(pattern, flags),
  { code: 'compileLinearRegExp' },
);

/** A value's problem against a JSON Schema: the path inside the value, and why. */
export interface SchemaViolation {
  path: string[];
  message: string;
}

/**
 * A fresh validator per use: ajv caches compiled schemas by object, and templates' schemas come
 * from requests, so a shared instance would keep every schema ever seen. `$ref` resolves only
 * inside the schema (no loader: nothing is fetched); `$async` schemas are refused.
 */
function newAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    // A schema may leave `type` implicit; unknown keywords and formats still make it invalid.
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false,
    // `pattern` and `patternProperties` come from requests: matched in linear time, never by a
    // backtracking engine that a pattern like `(a+)+$` could hold for hours.
    code: { regExp: linearRegExpEngine },
  });
  addFormats.default(ajv);
  return ajv;
}

/** Compiles a schema; a schema ajv refuses (unknown keyword, bad type, unresolved `$ref`) gives its reason. */
export function compilePayloadSchema(
  schema: Record<string, unknown>,
): { ok: true; validate: ValidateFunction } | { ok: false; message: string } {
  if (schema['$async'] !== undefined) return { ok: false, message: 'must not be an $async schema' };
  try {
    return { ok: true, validate: newAjv().compile(schema) };
  } catch (error) {
    return { ok: false, message: `is not a valid JSON Schema: ${(error as Error).message}` };
  }
}

/** Every violation of `value` against the compiled schema; none when it holds. */
export function schemaViolations(validate: ValidateFunction, value: unknown): SchemaViolation[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(toViolation);
}

function toViolation(error: ErrorObject): SchemaViolation {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    return { path: [...path, params['missingProperty']], message: 'is required by the payload schema' };
  }
  if (error.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
    return { path: [...path, params['additionalProperty']], message: 'is not allowed by the payload schema' };
  }
  return { path, message: error.message ?? `breaks the schema's ${error.keyword}` };
}
