import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import type { LogChunk } from '@meridian/contracts/messages/log-chunk';
import { describeInvalidLogChunk } from './amqp-log-sender.js';

const chunk = (payload: Partial<LogChunk>) =>
  buildEnvelope(
    'LogChunk' as const,
    1,
    { messageId: randomUUID(), occurredAt: new Date(), correlationId: 'c', nodeId: 'n' },
    {
      taskId: randomUUID(),
      executionId: randomUUID(),
      droppedBytes: 0,
      lines: [{ seq: 1, stream: 'stdout' as const, ts: new Date().toISOString(), text: 'hello' }],
      ...payload,
    },
  );

describe('describeInvalidLogChunk', () => {
  it('accepts a chunk the contracts accept', () => {
    expect(describeInvalidLogChunk(chunk({}))).toBeUndefined();
  });

  it.each([
    [{ lines: [] }, 'payload.lines'],
    [
      { lines: [{ seq: 0, stream: 'stdout' as const, ts: new Date().toISOString(), text: '' }] },
      'payload.lines.0.seq',
    ],
    [{ droppedBytes: -1 }, 'payload.droppedBytes'],
  ])('names what is wrong: %o', (payload, path) => {
    expect(describeInvalidLogChunk(chunk(payload))).toContain(path);
  });
});
