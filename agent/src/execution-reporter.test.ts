import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseAgentMessage, type AgentMessage } from '@meridian/contracts/messages/agent-message';
import {
  ERROR_MAX_BYTES,
  OUTPUT_STREAM_MAX_BYTES,
  PROGRESS_MESSAGE_MAX_BYTES,
  RESULT_MAX_BYTES,
} from '@meridian/contracts/messages/limits';
import { ExecutionReporter } from './execution-reporter.js';

function setup() {
  const sent: AgentMessage[] = [];
  let id = 0;
  const reporter = new ExecutionReporter({
    publish: (message) => {
      sent.push(message);
      return Promise.resolve();
    },
    nodeId: 'node-1',
    correlationId: 'corr-1',
    taskId: '00000000-0000-4000-8000-000000000001',
    executionId: '00000000-0000-4000-8000-000000000002',
    logger: pino({ level: 'silent' }),
    now: () => new Date('2030-01-01T00:00:00Z'),
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
  });
  return { reporter, sent };
}

describe('ExecutionReporter', () => {
  it('stamps envelopes and numbers reports from 0', async () => {
    const { reporter, sent } = setup();
    reporter.accepted();
    reporter.started(123);
    reporter.started(456);
    reporter.progress(150, 'x'.repeat(3000));
    await reporter.completed({ exitCode: 0, durationMs: 5 });

    expect(sent.map((m) => [m.type, 'sequence' in m.payload ? m.payload.sequence : null])).toEqual([
      ['TaskAccepted', 0],
      ['TaskStarted', 1],
      ['TaskProgress', 2],
      ['TaskCompleted', 3],
    ]);
    expect(sent[0]).toEqual({
      messageId: '00000000-0000-4000-8000-000000000001',
      type: 'TaskAccepted',
      schemaVersion: 1,
      occurredAt: '2030-01-01T00:00:00.000Z',
      correlationId: 'corr-1',
      nodeId: 'node-1',
      payload: {
        taskId: '00000000-0000-4000-8000-000000000001',
        executionId: '00000000-0000-4000-8000-000000000002',
        sequence: 0,
      },
    });
    expect(sent[1]?.payload).toMatchObject({ pid: 123 });
    expect(sent[2]?.payload).toMatchObject({ percent: 100 });
    const message = (sent[2]?.payload as { message: string }).message;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(PROGRESS_MESSAGE_MAX_BYTES);
    expect(message).toMatch(/^x+\n…\[\d+ bytes dropped\]…\nx+$/);
  });

  it('reports Started before the first progress, and nothing after the terminal report', async () => {
    const { reporter, sent } = setup();
    reporter.progress(10);
    await reporter.failed({ error: 'e'.repeat(20_000), exitCode: 1, retryable: false });
    reporter.progress(20);
    reporter.started();
    expect(sent.map((m) => m.type)).toEqual(['TaskStarted', 'TaskProgress', 'TaskFailed']);
    expect(Buffer.byteLength((sent[2]?.payload as { error: string }).error)).toBeLessThanOrEqual(
      ERROR_MAX_BYTES,
    );
  });

  const deep = (levels: number): unknown => (levels === 0 ? 'leaf' : { next: deep(levels - 1) });

  it.each<[string, (reporter: ExecutionReporter) => Promise<void>]>([
    [
      'an error of 12,000 characters',
      (r) => r.failed({ error: 'é'.repeat(12_000), exitCode: 1, retryable: true }),
    ],
    ['a NUL in the error', (r) => r.failed({ error: 'bad\u0000byte', exitCode: 1, retryable: true })],
    ['a lone surrogate in the reason', (r) => r.cancelled({ reason: 'cut \ud800 here' })],
    [
      'output past the protocol limit, with a NUL',
      (r) =>
        r.completed({
          exitCode: 0,
          durationMs: 1,
          output: { stdout: `a\u0000b${'o'.repeat(OUTPUT_STREAM_MAX_BYTES)}`, stderr: '', truncatedBytes: 7 },
        }),
    ],
    ['a result nested 40 deep', (r) => r.completed({ exitCode: 0, durationMs: 1, result: deep(40) })],
    [
      'a result past RESULT_MAX_BYTES',
      (r) => r.completed({ exitCode: 0, durationMs: 1, result: { big: 'r'.repeat(RESULT_MAX_BYTES) } }),
    ],
  ])('sends %s within the limits: the contracts take the report unchanged', async (_, report) => {
    const { reporter, sent } = setup();
    await report(reporter);
    const message = sent.at(-1)!;
    const parsed = parseAgentMessage(message);
    expect(parsed).toEqual({ ok: true, message });
    expect(JSON.stringify(message)).not.toMatch(/\\u0000|\\ud800/);
  });
});
