import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { RateLimitStatus } from '../domain/rate-limit-policy.js';

/**
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window ends)
 * of the tightest limit, as in the IETF draft "RateLimit header fields for HTTP" (its separate-field
 * form, which most clients read).
 */
export function rateLimitHeaderValues(status: RateLimitStatus): Record<string, string> {
  return {
    'RateLimit-Limit': String(status.limit),
    'RateLimit-Remaining': String(status.remaining),
    'RateLimit-Reset': String(status.resetSeconds),
  };
}

/** Puts the rate-limit headers on a successful answer to a counted call. */
export function setRateLimitHeaders(c: Context, status: RateLimitStatus): void {
  for (const [name, value] of Object.entries(rateLimitHeaderValues(status))) c.header(name, value);
}

/** OpenAPI `headers` of a counted call's successful response. */
export const RateLimitHeadersDoc = z.object({
  'RateLimit-Limit': z
    .string()
    .openapi({ description: 'The limit that constrains the caller most (hits per window)' }),
  'RateLimit-Remaining': z.string().openapi({ description: 'Hits left of that limit in its window' }),
  'RateLimit-Reset': z.string().openapi({ description: 'Seconds until that window ends' }),
});
