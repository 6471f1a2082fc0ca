import type { MiddlewareHandler } from 'hono';
import { jsonDepthExceeds } from '@meridian/contracts/json-depth';
import type { HttpEnv } from './http-env.js';
import { buildProblem, problemResponse } from './problem.js';

/** The media types Hono's validator parses as JSON: `application/json`, `application/*+json`. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Deepest nesting of a JSON request body (`{}` is 1). */
export const BODY_MAX_DEPTH = 32;

/**
 * Answers 400 for a JSON body nested deeper than `maxDepth`, before anything parses it: the depth
 * is counted on the raw text. The text is read through `c.req.text()`, which Hono caches, so the
 * validator's `c.req.json()` parses the same text afterwards. Runs after the body size limit.
 */
export function jsonDepthLimit(maxDepth: number = BODY_MAX_DEPTH): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim();
    if (c.req.raw.body && JSON_MEDIA_TYPE.test(mediaType)) {
      if (jsonDepthExceeds(await c.req.text(), maxDepth)) {
        return problemResponse(
          c,
          buildProblem('malformed_request', {
            detail: `the JSON body is nested deeper than ${maxDepth} levels`,
          }),
        );
      }
    }
    await next();
  };
}
