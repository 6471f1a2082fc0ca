import { describe, expect, it } from 'vitest';
import { encodeJson } from '../json-depth.js';
import { utf8Bytes } from '../storable.js';
import { parseAgentMessage, parseMessageOf } from './agent-message.js';
import { LOG_CHUNK, LOG_LINE_MAX_BYTES, LogChunkSchema } from './log-chunk.js';
import {
  ERROR_MAX_BYTES,
  OUTPUT_STREAM_MAX_BYTES,
  PROGRESS_MESSAGE_MAX_BYTES,
  REASON_MAX_BYTES,
  RESULT_MAX_BYTES,
} from './limits.js';

const TASK = '5f0c6a43-8f8e-4f3f-9a39-3f1a9d3b8f10';
const EXECUTION = 'b2b7c1de-51a5-4b7e-8d89-9e0f2b1f6d22';

function envelope(type: string, payload: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    messageId: '9a0e7c55-2a44-4c3e-8d3f-1a2b3c4d5e6f',
    type,
    schemaVersion: 1,
    occurredAt: '2026-11-23T10:00:00.120Z',
    correlationId: 'req-42',
    nodeId: 'node-eu-1',
    payload,
    ...overrides,
  };
}

const report = (type: string, fields: Record<string, unknown>) =>
  envelope(type, { taskId: TASK, executionId: EXECUTION, sequence: 3, ...fields });
const failed = (fields: Record<string, unknown>) =>
  report('TaskFailed', { error: 'boom', exitCode: 1, retryable: true, ...fields });
const completed = (fields: Record<string, unknown>) =>
  report('TaskCompleted', { exitCode: 0, durationMs: 5, ...fields });
const heartbeat = (fields: Record<string, unknown>) =>
  envelope('AgentHeartbeat', {
    nodeId: 'node-eu-1',
    orgId: 'acme',
    agentId: 'agent-1',
    agentVersion: '0.1.0',
    protocolVersion: 1,
    capacity: 4,
    runningExecutions: [],
    ...fields,
  });
const chunk = (lines: Record<string, unknown>[], fields: Record<string, unknown> = {}) =>
  envelope(LOG_CHUNK, { taskId: TASK, executionId: EXECUTION, lines, ...fields });
const line = (fields: Record<string, unknown>) => ({
  seq: 1,
  stream: 'stdout',
  ts: '2026-11-23T10:00:00.101Z',
  text: 'hello',
  ...fields,
});

const payloadOf = (raw: unknown): Record<string, unknown> => {
  const parsed = parseAgentMessage(Buffer.from(encodeJson(raw)));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.message.payload;
};

describe('text that programs produce is clamped and made storable, never refused', () => {
  it.each<[string, unknown, (payload: Record<string, unknown>) => void]>([
    [
      'an error of 12,000 characters',
      failed({ error: 'e'.repeat(12_000) }),
      (p) => {
        expect(utf8Bytes(p['error'] as string)).toBeLessThanOrEqual(ERROR_MAX_BYTES);
        expect(p['error']).toMatch(/bytes dropped/);
      },
    ],
    [
      'an error of 12,000 three-byte characters',
      failed({ error: '€'.repeat(12_000) }),
      (p) => expect(utf8Bytes(p['error'] as string)).toBeLessThanOrEqual(ERROR_MAX_BYTES),
    ],
    ['a NUL in an error', failed({ error: 'a\u0000b' }), (p) => expect(p['error']).toBe('a\uFFFDb')],
    ['a lone surrogate in an error', failed({ error: 'a\ud800' }), (p) => expect(p['error']).toBe('a\uFFFD')],
    [
      'a cancel reason past its limit',
      report('TaskCancelled', { reason: 'r'.repeat(5000) }),
      (p) => expect(utf8Bytes(p['reason'] as string)).toBeLessThanOrEqual(REASON_MAX_BYTES),
    ],
    [
      'a progress message past its limit, with a NUL',
      report('TaskProgress', { percent: 50, message: `\u0000${'m'.repeat(5000)}` }),
      (p) => {
        expect(utf8Bytes(p['message'] as string)).toBeLessThanOrEqual(PROGRESS_MESSAGE_MAX_BYTES);
        expect(p['message']).toMatch(/^\uFFFD/);
      },
    ],
    [
      'output past its limit, with NUL bytes',
      completed({
        output: {
          stdout: `\u0000${'o'.repeat(OUTPUT_STREAM_MAX_BYTES)}`,
          stderr: 'x\u0000',
          truncatedBytes: 10,
        },
      }),
      (p) => {
        const output = p['output'] as { stdout: string; stderr: string; truncatedBytes: number };
        expect(utf8Bytes(output.stdout)).toBeLessThanOrEqual(OUTPUT_STREAM_MAX_BYTES);
        expect(output.stdout.startsWith('\uFFFD')).toBe(true);
        expect(output.stderr).toBe('x\uFFFD');
        expect(output.truncatedBytes).toBeGreaterThan(10);
      },
    ],
    [
      'a truncatedBytes past int4',
      completed({ output: { stdout: '', stderr: '', truncatedBytes: 2 ** 40 } }),
      (p) => expect((p['output'] as { truncatedBytes: number }).truncatedBytes).toBe(2 ** 31 - 1),
    ],
    [
      'a result with NUL in a key and a value',
      completed({ result: { 'k\u0000': ['v\u0000'] } }),
      (p) => expect(p['result']).toEqual({ 'k\uFFFD': ['v\uFFFD'] }),
    ],
    [
      'a result past RESULT_MAX_BYTES',
      completed({ result: { big: 'r'.repeat(RESULT_MAX_BYTES) } }),
      (p) => expect(p['result']).toMatchObject({ truncated: true }),
    ],
    [
      'a result nested 20 deep',
      completed({ result: JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) as unknown }),
      (p) => expect(p['result']).toMatchObject({ truncated: true, reason: 'nested deeper than 16 levels' }),
    ],
    [
      'a Windows exit code',
      completed({ exitCode: 3_221_225_477 }),
      (p) => expect(p['exitCode']).toBe(-1_073_741_819),
    ],
  ])('%s', (_, message, check) => {
    check(payloadOf(message));
  });
});

describe('what a column cannot hold, or only a hostile sender sends, is refused with the reason', () => {
  it.each<[string, unknown, RegExp]>([
    ['a sequence past int4', failed({ sequence: 2 ** 31 }), /payload\.sequence: must be at most 2147483647/],
    [
      'an exitCode wider than 32 bits',
      completed({ exitCode: 2 ** 32 }),
      /payload\.exitCode: must fit 32 bits/,
    ],
    ['a durationMs past int4', completed({ durationMs: 2 ** 31 }), /payload\.durationMs/],
    ['a pid past int4', report('TaskStarted', { pid: 2 ** 31 }), /payload\.pid/],
    ['a lastLogSeq past int4', completed({ lastLogSeq: 2 ** 31 }), /payload\.lastLogSeq/],
    ['a percent over 100', report('TaskProgress', { percent: 101 }), /payload\.percent/],
    ['a node id with a path', failed({}), /nodeId/],
    ['a NUL in the correlation id', { ...failed({}), correlationId: 'a\u0000' }, /correlationId/],
    ['a type of 10,000 characters', { ...failed({}), type: 'T'.repeat(10_000) }, /invalid envelope: type/],
    ['a year 0000', { ...failed({}), occurredAt: '0000-01-01T00:00:00Z' }, /occurredAt/],
    ['a heartbeat from ../../etc/passwd', heartbeat({ nodeId: '../../etc/passwd' }), /payload\.nodeId/],
    ['a heartbeat with a NUL in its org', heartbeat({ orgId: 'acme\u0000' }), /payload\.orgId/],
    ['a heartbeat with an agent id of 201', heartbeat({ agentId: 'a'.repeat(201) }), /payload\.agentId/],
    [
      'a heartbeat with an agent version of 51',
      heartbeat({ agentVersion: '1'.repeat(51) }),
      /payload\.agentVersion/,
    ],
    [
      'a heartbeat with a protocolVersion past int4',
      heartbeat({ protocolVersion: 2 ** 31 }),
      /protocolVersion/,
    ],
    [
      'a heartbeat with 65 labels',
      heartbeat({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }),
      /at most 64 labels/,
    ],
    ['a heartbeat with a label key of 64 bytes', heartbeat({ labels: { ['k'.repeat(64)]: 'v' } }), /labels/],
    [
      'a heartbeat with a label value of 256 bytes',
      heartbeat({ labels: { k: 'v'.repeat(256) } }),
      /labels\.k/,
    ],
    [
      'a heartbeat with 4 KiB of labels',
      heartbeat({
        labels: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(250)])),
      }),
      /bytes of keys and values together/,
    ],
    ['a heartbeat with a NUL in a label', heartbeat({ labels: { k: 'v\u0000' } }), /labels\.k/],
    [
      'a report nested 10,000 deep',
      completed({ result: JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown }),
      /nested deeper than 32 levels/,
    ],
  ])('%s', (description, message, reason) => {
    const raw =
      description === 'a node id with a path'
        ? { ...(message as object), nodeId: '../../etc/passwd' }
        : message;
    const parsed = parseAgentMessage(Buffer.from(encodeJson(raw)));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(reason);
      expect(parsed.reason.length).toBeLessThanOrEqual(1001);
    }
  });

  it('keeps a long hostile key out of the reason', () => {
    const parsed = parseAgentMessage(
      Buffer.from(JSON.stringify(heartbeat({ labels: { ['k'.repeat(9000)]: 'v' } }))),
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeLessThan(300);
  });
});

describe('log chunks', () => {
  const parseChunk = (raw: unknown) =>
    parseMessageOf<{ payload: { lines: { text: string }[]; droppedBytes: number } }>(
      Buffer.from(encodeJson(raw)),
      { [LOG_CHUNK]: LogChunkSchema },
    );

  it.each<[string, unknown, (payload: { lines: { text: string }[]; droppedBytes: number }) => void]>([
    [
      'a NUL in a line',
      chunk([line({ text: 'a\u0000b' })]),
      (p) => expect(p.lines[0]?.text).toBe('a\uFFFDb'),
    ],
    [
      'a line past LOG_LINE_MAX_BYTES',
      chunk([line({ text: 'l'.repeat(LOG_LINE_MAX_BYTES * 2) })]),
      (p) => expect(utf8Bytes(p.lines[0]!.text)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES),
    ],
    [
      'droppedBytes past int4',
      chunk([line({})], { droppedBytes: 2 ** 40 }),
      (p) => expect(p.droppedBytes).toBe(2 ** 31 - 1),
    ],
  ])('accepts %s, made storable', (_, raw, check) => {
    const parsed = parseChunk(raw);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) check(parsed.message.payload);
  });

  it.each<[string, unknown, RegExp]>([
    ['a seq past int4', chunk([line({ seq: 2 ** 31 })]), /lines\.0\.seq/],
    [
      'a chunk nested 10,000 deep',
      chunk([line({ text: JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown })]),
      /nested deeper/,
    ],
  ])('refuses %s', (_, raw, reason) => {
    const parsed = parseChunk(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});
