import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-token-cache.js';

const claims = { sub: 'u', org_id: 'o', permissions: ['task:read'] };

describe('VerifiedTokenCache', () => {
  it.each([
    ['within ttl and exp', 10_000, 500, true],
    ['after the token expires', 1_000, 1_000, false],
    ['after the ttl even if the token lives on', 1_000_000, 60_000, false],
  ])('a cached token %s → hit %s', (_name, expiresAt, readAt, hit) => {
    const cache = new VerifiedTokenCache(10, 60_000);
    cache.set('t', claims, expiresAt, 0);
    expect(cache.get('t', readAt) !== undefined).toBe(hit);
  });

  it('does not cache a token without exp', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', claims, undefined, 0);
    expect(cache.get('t', 1)).toBeUndefined();
  });

  it('evicts the oldest entry when full', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('a', claims, 10_000, 0);
    cache.set('b', claims, 10_000, 0);
    cache.set('c', claims, 10_000, 0);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('b', 1)).toBe(claims);
    expect(cache.get('c', 1)).toBe(claims);
  });
});
