import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger('debug', 'test', destination), lines };
}

describe('createLogger', () => {
  it('logs a failed batch statement by its kind, code and message, without its SQL or parameters', () => {
    const { logger, lines } = capture();
    const driverError = Object.assign(new Error('unsupported Unicode escape sequence'), {
      code: '22P05',
      detail: '\\u0000 cannot be converted to text.',
    });
    const error = new QueryFailedError(
      'INSERT INTO execution_log_lines (execution_id, text) SELECT * FROM unnest($1::uuid[], $2::text[])',
      [['8d6f…'], ['a line of org-other', 'x'.repeat(10 * 1024 * 1024)]],
      driverError,
    );
    logger.warn({ err: error, size: 200 }, 'batch failed');
    logger.error({ error }, 'under another key');
    logger.error(error);

    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.length).toBeLessThan(10_000);
      expect(line).not.toMatch(/INSERT|unnest|org-other|xxxxxxxx|cannot be converted/);
    }
    const first = JSON.parse(lines[0]!) as { err: Record<string, unknown>; size: number };
    expect(first.size).toBe(200);
    expect(first.err).toMatchObject({
      type: 'QueryFailedError',
      code: '22P05',
      message: 'unsupported Unicode escape sequence',
    });
    expect(JSON.parse(lines[2]!)).toMatchObject({ err: { type: 'QueryFailedError', code: '22P05' } });
  });
});
