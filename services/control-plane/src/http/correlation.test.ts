import { describe, expect, it } from 'vitest';
import { resolveCorrelationId } from './correlation.js';

describe('resolveCorrelationId', () => {
  const generate = () => 'generated';

  it.each(['abc', 'req-1:retry.2_x', 'a'.repeat(200), '3f1c1d4e-9c3b-4a57-8a55-5b7f0c2b8e11'])(
    'keeps %j',
    (id) => {
      expect(resolveCorrelationId(id, generate)).toBe(id);
    },
  );

  it.each([undefined, '', 'a'.repeat(201), 'has space', 'new\nline', 'emoji-🙂', '<script>', 'a/b'])(
    'replaces %j',
    (id) => {
      expect(resolveCorrelationId(id, generate)).toBe('generated');
    },
  );

  it('generates a UUID by default', () => {
    expect(resolveCorrelationId(undefined)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
