import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
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
    expect((sent[2]?.payload as { message: string }).message).toHaveLength(2000);
  });

  it('reports Started before the first progress, and nothing after the terminal report', async () => {
    const { reporter, sent } = setup();
    reporter.progress(10);
    await reporter.failed({ error: 'e'.repeat(20_000), exitCode: 1, retryable: false });
    reporter.progress(20);
    reporter.started();
    expect(sent.map((m) => m.type)).toEqual(['TaskStarted', 'TaskProgress', 'TaskFailed']);
    expect((sent[2]?.payload as { error: string }).error).toHaveLength(10_000);
  });
});
