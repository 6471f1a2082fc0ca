import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/test-context.js';
import { removeDataDirs } from '../testing/data-dir.js';
import { handlerContext } from '../testing/handler-context.js';
import { isProcessGone, liveProcessesInGroup } from '../testing/processes.js';
import { createCommandHandler, CommandPayloadSchema, type CommandPayload } from './command.js';
import { executionFiles, readExitStatus } from './process-group.js';

afterAll(removeDataDirs);

// Real processes, no broker: the handler on its own.
const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', FROM_BASE: 'base' };
const handler = createCommandHandler(baseEnv);

function run(payload: unknown, outputMaxBytes?: number) {
  const context = handlerContext<CommandPayload>(CommandPayloadSchema.parse(payload), outputMaxBytes);
  return { ...context, result: handler.run(context.ctx) };
}

function startedPid(events: ReturnType<typeof run>['events']): number | undefined {
  const started = events.find((event) => event.kind === 'started');
  return started?.kind === 'started' ? started.pid : undefined;
}

describe('Command handler', () => {
  it('completes `echo hello` with its output', async () => {
    const { result, output, events } = run({ command: ['echo', 'hello'] });
    await expect(result).resolves.toEqual({ status: 'completed', exitCode: 0 });
    expect(output.stdout.toString()).toBe('hello\n');
    expect(output.stderr.toString()).toBe('');
    expect(startedPid(events)).toEqual(expect.any(Number) as unknown);
  });

  it("fails `sh -c 'exit 3'` with exit code 3, not retryable", async () => {
    const { result } = run({ command: ['sh', '-c', 'echo oops >&2; exit 3'] });
    await expect(result).resolves.toEqual({
      status: 'failed',
      error: 'exited with code 3',
      exitCode: 3,
      retryable: false,
    });
  });

  it('fails a program that does not exist, not retryable', async () => {
    const { result, events } = run({ command: ['/no/such/program'] });
    await expect(result).resolves.toMatchObject({ status: 'failed', exitCode: null, retryable: false });
    expect(((await result) as { error: string }).error).toContain('ENOENT');
    expect(events).toEqual([]);
  });

  it('runs a shell string with the base environment and its own, nothing else', async () => {
    const { result, output } = run({
      command: 'echo "$FROM_BASE $FROM_TASK [$AMQP_URL]"; pwd',
      shell: true,
      env: { FROM_TASK: 'task' },
      cwd: '/tmp',
    });
    await expect(result).resolves.toMatchObject({ status: 'completed' });
    expect(output.stdout.toString()).toBe('base task []\n/tmp\n');
  });

  it('keeps memory bounded for a program printing 5 MB', async () => {
    const { result, output } = run({ command: ['head', '-c', '5000000', '/dev/zero'] }, 1024);
    await expect(result).resolves.toMatchObject({ status: 'completed' });
    expect(output.stdout.keptBytes).toBe(1024);
    expect(output.stdout.droppedBytes).toBe(5_000_000 - 1024);
  });

  it('kills the whole process group on abort, grandchildren included', async () => {
    const { result, controller, events } = run({ command: ['sh', '-c', 'sleep 30 & sleep 30'] });
    const pid = await waitFor(() => startedPid(events), { description: 'the process to start' });
    const members = await waitFor(
      () => (liveProcessesInGroup(pid).length === 4 ? liveProcessesInGroup(pid) : undefined),
      { description: 'the wrapper, sh and its two sleeps' },
    );

    // SIGTERM did it, not the SIGKILL at the end of a grace period that outlasts the test.
    controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 3_600_000 });
    await expect(result).resolves.toMatchObject({
      status: 'failed',
      exitCode: null,
      error: 'killed by SIGTERM',
    });
    await waitFor(() => members.every(isProcessGone), { description: 'every member gone' });
  });

  it('sends SIGKILL after the grace period to a group that ignores SIGTERM', async () => {
    const { result, controller, events } = run({
      command: ['sh', '-c', 'trap "" TERM; sleep 30 & sleep 30'],
    });
    const pid = await waitFor(() => startedPid(events), { description: 'the process to start' });
    await waitFor(() => liveProcessesInGroup(pid).length === 4, {
      description: 'the wrapper, sh and its two sleeps',
    });

    const abortedAt = Date.now();
    controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 300 });
    await expect(result).resolves.toMatchObject({ status: 'failed', error: 'killed by SIGKILL' });
    expect(Date.now() - abortedAt).toBeGreaterThanOrEqual(290);
    await waitFor(() => liveProcessesInGroup(pid).length === 0, {
      timeoutMs: 2_000,
      description: 'the group gone',
    });
  });

  it('does not leave background processes behind when the program exits', async () => {
    const { result, events } = run({ command: ['sh', '-c', 'sleep 30 & echo started'] });
    await expect(result).resolves.toMatchObject({ status: 'completed' });
    const pid = startedPid(events) ?? 0;
    await waitFor(() => liveProcessesInGroup(pid).length === 0, {
      timeoutMs: 2_000,
      description: 'the group gone',
    });
  });

  it('writes the output and the exit status to files of its execution, for a restarted agent', async () => {
    const { result, ctx } = run({ command: ['sh', '-c', 'echo out; echo err >&2; exit 4'] });
    await expect(result).resolves.toMatchObject({ status: 'failed', exitCode: 4 });
    const files = executionFiles(ctx.dataDir);
    expect(readFileSync(files.stdout, 'utf8')).toBe('out\n');
    expect(readFileSync(files.stderr, 'utf8')).toBe('err\n');
    expect(readExitStatus(files.status)).toEqual({ exitCode: 4, exitSignal: null });
  });

  it('times out at the payload timeoutSeconds, retryable', async () => {
    const { result } = run({ command: ['sleep', '30'], timeoutSeconds: 1 });
    await expect(result).resolves.toMatchObject({ status: 'failed', timedOut: true, retryable: true });
  });
});
