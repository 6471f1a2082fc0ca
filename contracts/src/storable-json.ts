import { z } from 'zod';
import { isUnstorableText, toStorableText, utf8Bytes } from './storable.js';

/** Why a JSON value cannot go into a jsonb column, and where (`["a", 0, "b"]`). */
export interface UnstorableJson {
  path: (string | number)[];
  message: string;
}

/**
 * The first place where `value` (already decoded JSON) holds what jsonb refuses: a string or a
 * key with NUL or a lone surrogate, or nesting deeper than `maxDepth` (`{}` is depth 1). Recursion
 * stops at `maxDepth`, so a value nested deeper cannot overflow the stack here.
 */
export function findUnstorableJson(value: unknown, maxDepth: number): UnstorableJson | undefined {
  const visit = (node: unknown, path: (string | number)[], depth: number): UnstorableJson | undefined => {
    if (typeof node === 'string') {
      return isUnstorableText(node)
        ? { path, message: 'must not contain NUL or lone surrogates' }
        : undefined;
    }
    if (node === null || typeof node !== 'object') return undefined;
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        const found = visit(item, [...path, index], depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    for (const [key, item] of Object.entries(node)) {
      if (isUnstorableText(key))
        return { path: [...path, key], message: 'key must not contain NUL or lone surrogates' };
      const found = visit(item, [...path, key], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(value, [], 0);
}

/**
 * Zod refinement for JSON from people (HTTP bodies): refuse what jsonb cannot store, naming the
 * path of the first such string, key or level.
 */
export function refuseUnstorableJson(maxDepth: number) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const found = findUnstorableJson(value, maxDepth);
    if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
  };
}

/** What a JSON value too large or too deep to keep is replaced by. */
export interface TruncatedJson {
  truncated: true;
  reason: string;
}

/**
 * JSON from programs (a task's result), made storable: NUL and lone surrogates in strings and keys
 * become U+FFFD. A value nested deeper than `maxDepth` or larger than `maxBytes` once encoded is
 * replaced by `{ truncated: true, reason }`: never a reason to refuse the report that carries it.
 */
export function toStorableJson(value: unknown, limits: { maxDepth: number; maxBytes: number }): unknown {
  let tooDeep = false;
  const visit = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return toStorableText(node);
    if (node === null || typeof node !== 'object') return node;
    if (depth >= limits.maxDepth) {
      tooDeep = true;
      return null;
    }
    if (Array.isArray(node)) return node.map((item) => visit(item, depth + 1));
    return Object.fromEntries(
      Object.entries(node).map(([key, item]) => [toStorableText(key), visit(item, depth + 1)]),
    );
  };
  const storable = visit(value, 0);
  if (tooDeep) return { truncated: true, reason: `nested deeper than ${limits.maxDepth} levels` };
  const bytes = storable === undefined ? 0 : utf8Bytes(JSON.stringify(storable));
  if (bytes > limits.maxBytes) {
    return { truncated: true, reason: `${bytes} bytes of JSON, more than ${limits.maxBytes}` };
  }
  return storable;
}

/** Zod: JSON a program produced, made storable (see `toStorableJson`). */
export function programJson(limits: { maxDepth: number; maxBytes: number }) {
  return z.unknown().transform((value) => toStorableJson(value, limits));
}
