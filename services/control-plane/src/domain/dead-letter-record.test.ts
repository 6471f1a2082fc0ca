import { describe, expect, it } from 'vitest';
import {
  boundHeaders,
  describeDeadLetter,
  orgReferenceOf,
  text,
  type DeadLetterDelivery,
} from './dead-letter-record.js';

const EXECUTION = '0b7c6f0e-6a4e-4f43-9d39-4b0e1f7f4c11';
const TASK = '9f1d2c3b-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const received = new Date('2026-06-01T12:00:00.000Z');
const limits = { bodyMaxBytes: 64, headersMaxBytes: 400 };

function delivery(overrides: Partial<DeadLetterDelivery> = {}): DeadLetterDelivery {
  return {
    queue: 'm.agent-events.dead-letter',
    sourceExchange: 'm.agent-events',
    messageId: 'msg-1',
    type: 'TaskStarted',
    correlationId: 'corr-1',
    headers: {},
    body: Buffer.from('{}'),
    receivedAt: received,
    ...overrides,
  };
}

describe('describeDeadLetter', () => {
  it.each([
    [
      'the consumer’s reason header',
      { 'x-meridian-dead-letter-reason': 'payload.sequence: expected number' },
      'payload.sequence: expected number',
    ],
    [
      'the broker’s first death (delivery limit)',
      { 'x-first-death-reason': 'delivery_limit', 'x-first-death-queue': 'm.control-plane.agent-events' },
      'broker: delivery_limit on m.control-plane.agent-events',
    ],
    [
      'x-death alone',
      {
        'x-death': [
          { reason: 'rejected', queue: 'q2' },
          { reason: 'expired', queue: 'q1' },
        ],
      },
      'broker: expired on q1',
    ],
    ['nothing', {}, 'unknown: the message carries no dead-letter reason'],
    ['a NUL in the reason', { 'x-meridian-dead-letter-reason': 'bad\u0000byte' }, 'bad\uFFFDbyte'],
  ])('takes the reason from %s', (_, headers, reason) => {
    expect(describeDeadLetter(delivery({ headers }), limits).reason).toBe(reason);
  });

  it.each([
    ['the consumer’s header', { 'x-meridian-original-routing-key': 'TaskFailed' }, 'TaskFailed'],
    ['x-death', { 'x-death': [{ 'routing-keys': ['node.n1'], exchange: 'elsewhere' }] }, 'node.n1'],
    ['the message type when nothing says', {}, 'TaskStarted'],
  ])('takes the routing key from %s, and always the queue’s source exchange', (_, headers, key) => {
    const record = describeDeadLetter(delivery({ headers }), limits);
    expect(record.originalRoutingKey).toBe(key);
    expect(record.originalExchange).toBe('m.agent-events');
  });

  it('takes the time of the first death when the broker dead-lettered it (AMQP seconds)', () => {
    const headers = { 'x-death': [{ reason: 'delivery_limit', time: 1_780_000_000 }] };
    expect(describeDeadLetter(delivery({ headers }), limits).deadLetteredAt).toEqual(
      new Date(1_780_000_000_000),
    );
    expect(describeDeadLetter(delivery(), limits).deadLetteredAt).toEqual(received);
  });

  it.each([
    ['at the cap whole', Buffer.from('x'.repeat(64)), 64, false, 64],
    ['past the cap cut', Buffer.from('x'.repeat(65)), 65, true, 64],
    ['that could not be read as none', null, null, false, null],
  ])('keeps a body %s', (_, body, size, truncated, stored) => {
    const record = describeDeadLetter(delivery({ body }), limits);
    expect(record).toMatchObject({ bodySize: size, bodyTruncated: truncated });
    expect(record.body?.length ?? null).toBe(stored);
  });

  it('reads no ids from a cut body', () => {
    const body = Buffer.from(JSON.stringify({ payload: { executionId: EXECUTION, pad: 'x'.repeat(100) } }));
    expect(describeDeadLetter(delivery({ body }), limits).orgReference.executionId).toBeNull();
  });
});

describe('orgReferenceOf', () => {
  it.each([
    [{ nodeId: 'n-1', payload: { executionId: EXECUTION, taskId: TASK } }, EXECUTION, TASK, 'n-1', null],
    [{ nodeId: 'n-1', payload: { orgId: 'org-a', nodeId: 'n-1' } }, null, null, 'n-1', 'org-a'],
    [
      { nodeId: '../../etc/passwd', payload: { executionId: "1' OR 1=1", orgId: '' } },
      null,
      null,
      null,
      null,
    ],
    [{ payload: { executionId: 42, orgId: { nested: true } } }, null, null, null, null],
    ['not an object', null, null, null, null],
  ])('reads %j', (value, executionId, taskId, nodeId, payloadOrgId) => {
    expect(orgReferenceOf(Buffer.from(JSON.stringify(value)))).toEqual({
      executionId,
      taskId,
      nodeId,
      payloadOrgId,
    });
  });

  it.each([['{not json'], ['\u0000\u0001'], ['']])('finds nothing in %j', (body) => {
    expect(orgReferenceOf(Buffer.from(body))).toEqual({
      executionId: null,
      taskId: null,
      nodeId: null,
      payloadOrgId: null,
    });
  });
});

describe('boundHeaders', () => {
  it('keeps its own and the broker’s headers first and counts what it leaves out', () => {
    const headers: Record<string, unknown> = {
      'x-meridian-dead-letter-reason': 'r',
      'x-death': [{ count: 1 }],
    };
    for (let i = 0; i < 40; i += 1) headers[`h${i}`] = 'v'.repeat(20);
    const bounded = boundHeaders(headers, 400);
    expect(bounded['x-meridian-dead-letter-reason']).toBe('r');
    expect(bounded['x-death']).toEqual([{ count: 1 }]);
    expect(JSON.stringify(bounded).length).toBeLessThanOrEqual(400 + 40);
    expect(bounded['x-meridian-headers-omitted']).toBeGreaterThan(0);
  });

  it.each([
    [
      'a deep value',
      { a: { b: { c: { d: { e: { f: 1 } } } } } },
      { a: { b: { c: { d: { e: '<nested too deep>' } } } } },
    ],
    [
      'bytes, dates, bigints and NULs',
      { b: Buffer.from('xyz'), d: new Date(0), n: 10n, s: 'a\u0000' },
      {
        b: '<3 bytes>',
        d: '1970-01-01T00:00:00.000Z',
        n: '10',
        s: 'a\uFFFD',
      },
    ],
    [
      'a long array',
      { list: Array.from({ length: 12 }, (_, i) => i) },
      {
        list: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, '<2 more>'],
      },
    ],
  ])('makes %s safe', (_, headers, expected) => {
    expect(boundHeaders(headers, 8192)).toEqual(expected);
  });
});

describe('text', () => {
  it.each([
    [undefined, null],
    ['', null],
    [12, null],
    ['ok', 'ok'],
    ['x'.repeat(1001), `${'x'.repeat(1000)}…`],
  ])('makes %# what it should', (value, expected) => {
    expect(text(value)).toBe(expected);
  });
});
