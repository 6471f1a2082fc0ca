import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { ExecutionRunner } from './execution-runner.js';
import { echoHandler } from './handlers/echo.js';
import { HandlerRegistry, type TaskHandler } from './handlers/handler.js';
import type { LogChunkMessage } from './logs/execution-log.js';
import { LogShipper } from './logs/log-shipper.js';
import { removeDataDirs, temporaryJournal } from './testing/data-dir.js';
import { RunningExecutions } from './running-executions.js';
import { executeTask } from './testing/commands.js';
import { executionDir } from './state/execution-files.js';

afterAll(removeDataDirs);

const NODE = 'node-unit';

const progressHandler: TaskHandler<{ steps: number }> = {
  type: 'Steps',
  payloadSchema: z.object({ steps: z.number() }),
  run(ctx) {
    for (let step = 1; step <= ctx.payload.steps; step++)
      ctx.reportProgress((100 * step) / ctx.payload.steps, `step ${step}`);
    ctx.output.stdout.append('done\n');
    return Promise.resolve({ status: 'completed', result: { steps: ctx.payload.steps } });
  },
};

const throwingHandler: TaskHandler = {
  type: 'Throws',
  payloadSchema: z.unknown(),
  run: () => Promise.reject(new Error('boom')),
};

function setup(publish?: (message: AgentMessage) => Promise<void>) {
  const state = temporaryJournal();
  const sent: AgentMessage[] = [];
  const chunks: LogChunkMessage[] = [];
  /** Log chunks and reports, in the order they were handed to the broker. */
  const timeline: string[] = [];
  const running = new RunningExecutions();
  const logs = new LogShipper({
    sender: {
      send: (chunk) => {
        chunks.push(chunk);
        timeline.push(`LogChunk:${chunk.payload.lines.map((line) => line.seq).join(',')}`);
        return Promise.resolve();
      },
    },
    nodeId: NODE,
    flushMs: 5,
    bufferBytes: 1024 * 1024,
    logger: pino({ level: 'silent' }),
  });
  const runner = new ExecutionRunner({
    registry: new HandlerRegistry([echoHandler, progressHandler, throwingHandler]),
    running,
    publish:
      publish ??
      ((message) => {
        sent.push(message);
        timeline.push(message.type);
        return Promise.resolve();
      }),
    logs,
    nodeId: NODE,
    orgId: 'org-test',
    ...state,
    outputMaxBytes: 1024,
    logger: pino({ level: 'silent' }),
  });
  const reports = () => sent.map((m) => [m.type, 'sequence' in m.payload ? m.payload.sequence : undefined]);
  const last = () => sent.at(-1)?.payload as Record<string, unknown>;
  return {
    sent,
    chunks,
    timeline,
    running,
    runner,
    reports,
    last,
    journal: state.journal,
    dataDir: state.dataDir,
  };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ExecutionRunner', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  it('reports Accepted, Started, Completed with sequences 0, 1, 2', async () => {
    const { runner, sent, reports, last, running } = setup();
    const command = executeTask(NODE, { payload: { hello: 'world' } });
    await runner.run(command);
    expect(reports()).toEqual([
      ['TaskAccepted', 0],
      ['TaskStarted', 1],
      ['TaskCompleted', 2],
    ]);
    expect(last()).toMatchObject({
      exitCode: 0,
      result: { hello: 'world' },
      output: { stdout: '', stderr: '', truncatedBytes: 0 },
    });
    for (const message of sent) {
      expect(message).toMatchObject({ correlationId: command.correlationId, nodeId: NODE });
      expect(message.payload).toMatchObject({
        taskId: command.payload.taskId,
        executionId: command.payload.executionId,
      });
    }
    expect(new Set(sent.map((m) => m.messageId)).size).toBe(3);
    expect(running.stateOf(command.payload.executionId)).toBe('finished');
  });

  it('numbers progress reports and keeps the output', async () => {
    const { runner, reports, last } = setup();
    await runner.run(executeTask(NODE, { type: 'Steps', payload: { steps: 2 } }));
    expect(reports()).toEqual([
      ['TaskAccepted', 0],
      ['TaskStarted', 1],
      ['TaskProgress', 2],
      ['TaskProgress', 3],
      ['TaskCompleted', 4],
    ]);
    expect(last()).toMatchObject({ result: { steps: 2 }, output: { stdout: 'done\n' } });
  });

  it('ships the output live, then sends the end report naming the last seq', async () => {
    const { runner, chunks, timeline, last } = setup();
    const command = executeTask(NODE, { type: 'Steps', payload: { steps: 1 } });
    await runner.run(command);
    expect(timeline).toEqual(['TaskAccepted', 'TaskStarted', 'TaskProgress', 'LogChunk:1', 'TaskCompleted']);
    expect(chunks[0]).toMatchObject({
      type: 'LogChunk',
      correlationId: command.correlationId,
      nodeId: NODE,
      payload: {
        taskId: command.payload.taskId,
        executionId: command.payload.executionId,
        droppedBytes: 0,
        lines: [{ seq: 1, stream: 'stdout', text: 'done' }],
      },
    });
    expect(last()).toMatchObject({ lastLogSeq: 1, output: { stdout: 'done\n' } });
  });

  it('names lastLogSeq 0 in every end report of an execution that printed nothing', async () => {
    const echo = setup();
    await echo.runner.run(executeTask(NODE));
    expect(echo.last()).toMatchObject({ lastLogSeq: 0 });
    const unknown = setup();
    await unknown.runner.run(executeTask(NODE, { type: 'Nope' }));
    expect(unknown.last()).toMatchObject({ lastLogSeq: 0 });
    const cancelled = setup();
    await cancelled.runner.reportCancelledBeforeStart(executeTask(NODE), 'too late');
    expect(cancelled.last()).toMatchObject({ lastLogSeq: 0 });
    expect([...echo.chunks, ...unknown.chunks, ...cancelled.chunks]).toEqual([]);
  });

  it.each([
    [{ type: 'Nope' }, 'unknown task type "Nope"; this agent handles: Echo, Steps, Throws', false],
    [{ payload: { delayMs: 'x' } }, 'invalid payload: payload.delayMs', false],
    [{ orgId: 'org-other' }, 'task of organisation "org-other" sent to a node of "org-test"', false],
    [{ type: 'Throws' }, 'handler error: boom', false],
    [{ deadline: new Date(Date.now() - 1000).toISOString() }, 'passed before the task started', true],
  ])('fails %o: %s', async (overrides, error, retryable) => {
    const { runner, reports, last } = setup();
    await runner.run(executeTask(NODE, overrides));
    expect(reports().at(-1)).toEqual(['TaskFailed', reports().length - 1]);
    expect(last()).toMatchObject({ retryable });
    expect(last().error).toContain(error);
  });

  it('times out at the deadline', async () => {
    // On a fake clock: on a real one, a machine that stalls 100 ms before the runner looks at the
    // deadline finds it passed before the task started, another outcome.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { runner, reports, last } = setup();
    const deadline = new Date(Date.now() + 100).toISOString();
    const done = runner.run(executeTask(NODE, { deadline, payload: { delayMs: 60_000 } }));
    await vi.advanceTimersByTimeAsync(99);
    expect(reports().at(-1)?.[0]).toBe('TaskStarted');
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(last()).toMatchObject({ timedOut: true, retryable: true, exitCode: null });
    expect(last().error).toContain('timed out');
  });

  it('reports TaskCancelled when cancelled', async () => {
    const { runner, running, reports, last } = setup();
    const command = executeTask(NODE, { payload: { delayMs: 60_000 } });
    const done = runner.run(command);
    await until(() => running.get(command.payload.executionId) !== undefined);
    running
      .get(command.payload.executionId)
      ?.abort({ kind: 'cancelled', reason: 'user asked', gracePeriodMs: 0 });
    await done;
    expect(reports().at(-1)).toEqual(['TaskCancelled', 2]);
    expect(last()).toMatchObject({ reason: 'user asked', exitCode: null });
  });

  it('reports a shutdown as a retryable failure', async () => {
    const { runner, running, last } = setup();
    const command = executeTask(NODE, { payload: { delayMs: 60_000 } });
    const done = runner.run(command);
    await until(() => running.size === 1);
    running.abortAll({ kind: 'shutdown', gracePeriodMs: 0 });
    await done;
    expect(last()).toMatchObject({ retryable: true, error: 'the agent shut down before the task finished' });
  });

  it('reports a cancel that came first without running anything', async () => {
    const { runner, reports, running } = setup();
    const command = executeTask(NODE);
    await runner.reportCancelledBeforeStart(command, 'too late');
    expect(reports()).toEqual([['TaskCancelled', 0]]);
    expect(running.stateOf(command.payload.executionId)).toBe('finished');
  });

  it('rejects and forgets the execution when its terminal report cannot be sent', async () => {
    const { runner, running } = setup((message) =>
      message.type === 'TaskCompleted' ? Promise.reject(new Error('closed')) : Promise.resolve(),
    );
    const command = executeTask(NODE);
    await expect(runner.run(command)).rejects.toThrow('closed');
    expect(running.stateOf(command.payload.executionId)).toBe('unknown');
  });

  describe('after a restart (an execution journalled by an earlier agent process)', () => {
    it('reports a journalled execution that started no program failed, retryable, without running it', async () => {
      const { runner, journal, reports, last } = setup();
      const command = executeTask(NODE, { payload: { delayMs: 10_000 } });
      const { taskId, executionId } = command.payload;
      journal.accepted({
        taskId,
        executionId,
        correlationId: 'c',
        type: 'Echo',
        attempt: 1,
        deadline: command.payload.deadline,
      });
      journal.sequenceUsed(executionId, 0);
      journal.started(executionId);
      journal.sequenceUsed(executionId, 1);
      const [entry] = journal.unfinished();
      if (!entry) throw new Error('no journal entry');
      await runner.resume(entry);
      expect(reports()).toEqual([['TaskFailed', 2]]);
      expect(last()).toMatchObject({
        error: 'the agent restarted while the task ran inside it; it did not finish',
        retryable: true,
      });
    });

    it('reports the outcome a program recorded when it ended before its pid reached the journal', async () => {
      const { runner, journal, reports, last, dataDir } = setup();
      const command = executeTask(NODE, { type: 'Command', payload: { command: ['true'] } });
      const { taskId, executionId } = command.payload;
      journal.accepted({
        taskId,
        executionId,
        correlationId: 'c',
        type: 'Command',
        attempt: 1,
        deadline: command.payload.deadline,
      });
      journal.sequenceUsed(executionId, 0);
      // What the wrapper leaves of a program that ran and exited while the agent was down.
      const dir = executionDir(dataDir, executionId);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'stdout'), 'effect done\n');
      writeFileSync(join(dir, 'stderr'), '');
      writeFileSync(join(dir, 'status'), '0\n');
      const [entry] = journal.unfinished();
      if (!entry) throw new Error('no journal entry');
      await runner.resume(entry);
      expect(reports()).toEqual([
        ['TaskStarted', 1],
        ['TaskCompleted', 2],
      ]);
      expect(last()).toMatchObject({ exitCode: 0, output: { stdout: 'effect done\n' } });
    });

    it('sends a journalled end report again, the same message', async () => {
      const first = setup();
      const command = executeTask(NODE);
      await first.runner.run(command);
      const [entry] = first.journal.unfinished();
      if (!entry?.end) throw new Error('no journalled end report');
      const second = setup();
      await second.runner.resume(entry);
      expect(second.sent).toEqual([first.sent.at(-1)]);
    });
  });
});
