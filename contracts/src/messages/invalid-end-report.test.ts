import { describe, expect, it } from 'vitest';
import { encodeJson } from '../json-depth.js';
import { parseAgentMessage } from './agent-message.js';
import { failureOfInvalidEndReport, salvageEndReport } from './invalid-end-report.js';

const TASK = '5f0c6a43-8f8e-4f3f-9a39-3f1a9d3b8f10';
const EXECUTION = 'b2b7c1de-51a5-4b7e-8d89-9e0f2b1f6d22';
const MESSAGE = '9a0e7c55-2a44-4c3e-8d3f-1a2b3c4d5e6f';
const NOW = new Date('2026-11-23T10:05:00.000Z');

function endReport(overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return {
    messageId: MESSAGE,
    type: 'TaskFailed',
    schemaVersion: 1,
    occurredAt: '2026-11-23T10:00:00.120Z',
    correlationId: 'req-42',
    nodeId: 'node-eu-1',
    payload: { taskId: TASK, executionId: EXECUTION, sequence: 3, error: 'boom', exitCode: 1, ...payload },
    ...overrides,
  };
}

const bytes = (value: unknown) => Buffer.from(encodeJson(value));

describe('salvageEndReport', () => {
  it.each<[string, unknown, Record<string, unknown> | undefined]>([
    ['a TaskFailed', bytes(endReport()), { type: 'TaskFailed', sequence: 3, correlationId: 'req-42' }],
    ['a TaskCompleted', bytes(endReport({ type: 'TaskCompleted' })), { type: 'TaskCompleted' }],
    ['a TaskCancelled', bytes(endReport({ type: 'TaskCancelled' })), { type: 'TaskCancelled' }],
    ['a decoded value', endReport(), { type: 'TaskFailed' }],
    [
      'a sequence past int4, kept as the highest',
      bytes(endReport({}, { sequence: 2 ** 40 })),
      { sequence: 2_147_483_647 },
    ],
    [
      'a bad correlation id, left out',
      bytes(endReport({ correlationId: 'a\u0000' })),
      { correlationId: undefined },
    ],
    ['a bad occurredAt, left out', bytes(endReport({ occurredAt: 'yesterday' })), { occurredAt: undefined }],
    [
      'a report nested 10,000 deep',
      bytes(endReport({}, { result: JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown })),
      { executionId: EXECUTION },
    ],
    ['a TaskProgress', bytes(endReport({ type: 'TaskProgress' })), undefined],
    ['a heartbeat', bytes(endReport({ type: 'AgentHeartbeat' })), undefined],
    ['no messageId', bytes(endReport({ messageId: 'x' })), undefined],
    ['a node id with a path', bytes(endReport({ nodeId: '../../etc/passwd' })), undefined],
    ['no executionId', bytes(endReport({}, { executionId: undefined })), undefined],
    ['a bad taskId', bytes(endReport({}, { taskId: 7 })), undefined],
    ['a negative sequence', bytes(endReport({}, { sequence: -1 })), undefined],
    ['a fractional sequence', bytes(endReport({}, { sequence: 1.5 })), undefined],
    ['no payload', bytes(endReport({ payload: undefined })), undefined],
    ['bytes that are not JSON', Buffer.from('{"type":"TaskFailed",'), undefined],
    ['a JSON array', bytes([1, 2]), undefined],
  ])('%s', (_, raw, expected) => {
    const salvaged = salvageEndReport(raw);
    if (expected === undefined) expect(salvaged).toBeUndefined();
    else expect(salvaged).toMatchObject(expected);
  });
});

describe('failureOfInvalidEndReport', () => {
  it('is a valid, non-retryable TaskFailed of the same message, node, execution and sequence', () => {
    const salvaged = salvageEndReport(bytes(endReport({ type: 'TaskCompleted' })))!;
    const failure = failureOfInvalidEndReport(salvaged, 'invalid TaskCompleted: payload.exitCode: bad', NOW);
    expect(parseAgentMessage(failure)).toEqual({ ok: true, message: failure });
    expect(failure).toMatchObject({
      messageId: MESSAGE,
      type: 'TaskFailed',
      nodeId: 'node-eu-1',
      correlationId: 'req-42',
      occurredAt: '2026-11-23T10:00:00.120Z',
      payload: {
        taskId: TASK,
        executionId: EXECUTION,
        sequence: 3,
        error: 'invalid end report: invalid TaskCompleted: payload.exitCode: bad',
        exitCode: null,
        retryable: false,
      },
    });
  });

  it('falls back to the messageId as correlation id and to now as time', () => {
    const salvaged = salvageEndReport(bytes(endReport({ correlationId: '', occurredAt: 3 })))!;
    const failure = failureOfInvalidEndReport(salvaged, 'r'.repeat(20_000), NOW);
    expect(failure.correlationId).toBe(MESSAGE);
    expect(failure.occurredAt).toBe(NOW.toISOString());
    expect(Buffer.byteLength(failure.payload.error)).toBeLessThanOrEqual(10_000);
  });
});
