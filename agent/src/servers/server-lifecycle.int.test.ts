import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/test-context.js';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { isProcessGone, liveProcessesInGroup } from '../testing/processes.js';
import { serverTestKit } from './server-test-kit.js';

// Real server processes (the game-server script) supervised in-process, driven through the handlers.
const kits: Array<ReturnType<typeof serverTestKit>> = [];
const kit = (options?: Parameters<typeof serverTestKit>[0]) => {
  const made = serverTestKit(options);
  kits.push(made);
  return made;
};
afterEach(() => {
  for (const made of kits.splice(0)) made.dispose();
});
afterAll(removeDataDirs);

/** Long enough for the script to answer on any machine; the test asserts on what came in it. */
const COMMAND_WINDOW_MS = 2_000;

it('starts a server (ready line), answers a console command, saves, and stops it gracefully', async () => {
  const { run, spec, supervisor, statesOf, servers } = kit();
  const start = await run('ServerStart', 'srv-1', spec());
  expect(start.result).toMatchObject({ status: 'completed', result: { pid: expect.any(Number) as unknown } });
  const { pid } = (start.result as { result: { pid: number } }).result;
  expect(start.stdout()).toContain('Done (0.12s)! For help');
  expect(start.test.events).toEqual([
    { kind: 'started', pid },
    { kind: 'progress', percent: 50 },
    { kind: 'progress', percent: 100 },
  ]);
  expect(supervisor.snapshot('srv-1')).toMatchObject({ state: 'running', pid });

  const say = await run('ServerCommand', 'srv-1', { command: 'say hi', windowMs: COMMAND_WINDOW_MS });
  expect(say.result).toEqual({ status: 'completed', result: { lines: ['[Server] hi'], truncated: false } });
  await run('ServerCommand', 'srv-1', { command: 'save', windowMs: COMMAND_WINDOW_MS });
  expect(readFileSync(join(servers.root, 'srv-1', 'world', 'save-1.dat'), 'utf8')).toBe('save 1\n');

  const stop = await run('ServerStop', 'srv-1', {});
  expect(stop.result).toEqual({
    status: 'completed',
    result: { exitCode: 0, exitSignal: null, stoppedBy: 'graceful' },
  });
  expect(isProcessGone(pid)).toBe(true);
  expect(statesOf('srv-1')).toEqual(['starting', 'running', 'stopping', 'stopped']);
  const again = await run('ServerStop', 'srv-1', {});
  expect(again.result).toMatchObject({ status: 'completed', result: { stoppedBy: 'already-stopped' } });
});

it('kills a server that ignores stop and SIGTERM once the timeouts pass', async () => {
  const { run, spec, supervisor } = kit();
  const start = await run(
    'ServerStart',
    'stubborn',
    spec({ env: { IGNORE_STOP: '1' }, stopTimeoutSeconds: 1 }),
  );
  const { pid } = (start.result as { result: { pid: number } }).result;
  const stop = await run('ServerStop', 'stubborn', {});
  expect(stop.result).toEqual({
    status: 'completed',
    result: { exitCode: null, exitSignal: 'SIGKILL', stoppedBy: 'SIGKILL' },
  });
  expect(stop.stdout()).toBe('Ignoring stop\nIgnoring SIGTERM\n');
  expect(liveProcessesInGroup(pid)).toEqual([]);
  expect(supervisor.snapshot('stubborn')).toMatchObject({
    state: 'stopped',
    pid: null,
    lastExitSignal: 'SIGKILL',
  });
});

it('restarts a crashing server per its policy, then gives up: crashed', async () => {
  const { run, spec, supervisor, statesOf } = kit();
  const policy = { type: 'on-failure', maxRestarts: 2, backoffSeconds: 0 };
  const start = await run(
    'ServerStart',
    'crashy',
    spec({ env: { CRASH_AFTER_MS: '1500' }, restartPolicy: policy }),
  );
  expect(start.result).toMatchObject({ status: 'completed' });
  await waitFor(() => supervisor.snapshot('crashy')?.state === 'crashed', {
    timeoutMs: 20_000,
    description: 'the server crashed for good',
  });
  expect(supervisor.snapshot('crashy')).toMatchObject({ restarts: 2, lastExitCode: 1, pid: null });
  expect(statesOf('crashy')).toEqual([
    'starting',
    'running',
    'restarting',
    'starting',
    'running',
    'restarting',
    'starting',
    'running',
    'crashed',
  ]);
  // A start by a task counts again from zero.
  const restart = await run('ServerStart', 'crashy', { spec: undefined });
  expect(restart.result).toMatchObject({ status: 'completed' });
  expect(supervisor.snapshot('crashy')?.restarts).toBe(0);
});

it('refuses to start a running server, a first start without spec, and a task not aimed at a server', async () => {
  const { run, spec } = kit();
  const first = await run('ServerStart', 'srv-2', spec());
  const { pid } = (first.result as { result: { pid: number } }).result;
  expect((await run('ServerStart', 'srv-2', spec())).result).toEqual({
    status: 'failed',
    error: `server srv-2 is already running (pid ${pid})`,
    exitCode: null,
    retryable: false,
  });
  expect((await run('ServerStart', 'never-seen', {})).result).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('payload.spec is required') as unknown,
  });
  expect((await run('ServerStatus', 'srv-2', {}, { targetType: 'Node' })).result).toMatchObject({
    status: 'failed',
    error: 'targetType must be "Server" for a ServerStatus task (got "Node")',
  });
  expect((await run('ServerStart', '../etc', spec())).result).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('targetId "../etc" is not a valid server id') as unknown,
  });
});

it('fails a start whose server exits before it is ready, with its last output', async () => {
  const { run, spec, supervisor } = kit();
  const result = await run(
    'ServerStart',
    'early',
    spec({
      readyPattern: 'never printed',
      env: { CRASH_AFTER_MS: '100' },
      restartPolicy: { type: 'on-failure' },
    }),
  );
  expect(result.result).toMatchObject({ status: 'failed', retryable: false });
  const error = (result.result as { error: string }).error;
  expect(error).toContain('server early exited before it was ready (exit code 1)');
  expect(error).toContain('Crashing');
  // Not ready yet: no crash to restart.
  expect(supervisor.snapshot('early')).toMatchObject({ state: 'crashed', restarts: 0 });
});

it('reports status with resource use, and the console log', async () => {
  const { run, spec } = kit();
  await run('ServerStart', 'srv-3', spec());
  await run('ServerCommand', 'srv-3', { command: 'say logged', windowMs: COMMAND_WINDOW_MS });
  const status = await run('ServerStatus', 'srv-3', {});
  expect(status.result).toMatchObject({
    status: 'completed',
    result: {
      serverId: 'srv-3',
      state: 'running',
      pid: expect.any(Number) as unknown,
      uptimeSeconds: expect.any(Number) as unknown,
      restarts: 0,
      cpuPercent: expect.any(Number) as unknown,
      processes: 2,
    },
  });
  expect((status.result as { result: { rssBytes: number } }).result.rssBytes).toBeGreaterThan(0);
  const logs = await run('ServerLogs', 'srv-3', { lines: 2 });
  expect(logs.result).toEqual({
    status: 'completed',
    result: { lines: ['Done (0.12s)! For help, type "help"', '[Server] logged'], truncated: true },
  });
  const neverStarted = await run('ServerStatus', 'nothing-here', {});
  expect(neverStarted.result).toMatchObject({ result: { state: 'stopped', pid: null, rssBytes: null } });
});

it('rotates the console log past its limit and still returns the last lines', async () => {
  const { run, spec, servers } = kit({ logMaxBytes: 1024 });
  await run('ServerStart', 'chatty', spec());
  for (let i = 0; i < 40; i++)
    await run('ServerCommand', 'chatty', { command: `say line ${i} ${'x'.repeat(40)}`, windowMs: 0 });
  await waitFor(() => existsSync(join(servers.stateDir, 'chatty', 'console.log.1')), {
    description: 'a rotation',
  });
  await waitFor(
    async () => {
      const logs = await run('ServerLogs', 'chatty', { lines: 1 });
      return (logs.result as { result: { lines: string[] } }).result.lines[0]?.startsWith('[Server] line 39');
    },
    { description: 'the last line in the logs' },
  );
});

it('refuses a working directory that leaves the server directory through a symbolic link', async () => {
  const { run, spec, servers } = kit();
  const outside = temporaryDataDir();
  mkdirSync(join(servers.root, 'escaper'), { recursive: true });
  symlinkSync(outside, join(servers.root, 'escaper', 'link'));
  const result = await run('ServerStart', 'escaper', spec({ workingDirectory: 'link/game' }));
  expect(result.result).toMatchObject({
    status: 'failed',
    error: expect.stringContaining(
      'spec.workingDirectory "link/game" leaves the server directory',
    ) as unknown,
  });
  expect(existsSync(join(outside, 'game'))).toBe(false);
});

it('a new supervisor on the same directories adopts a running server and learns how a dead one ended', async () => {
  const first = serverTestKit();
  kits.push(first);
  await first.run('ServerStart', 'alive', first.spec());
  await first.run('ServerStart', 'doomed', first.spec({ env: { CRASH_AFTER_MS: '1500' } }));
  const alivePid = first.supervisor.snapshot('alive')?.pid as number;
  const doomedPid = first.supervisor.snapshot('doomed')?.pid as number;
  first.supervisor.close();
  await waitFor(() => isProcessGone(doomedPid), { description: 'the doomed server to crash unwatched' });

  const second = kit({ dataDir: first.dataDir });
  expect(second.supervisor.snapshot('alive')).toMatchObject({ state: 'running', pid: alivePid });
  expect(second.supervisor.snapshot('doomed')).toMatchObject({
    state: 'crashed',
    pid: null,
    lastExitCode: 1,
  });
  const say = await second.run('ServerCommand', 'alive', {
    command: 'say still here',
    windowMs: COMMAND_WINDOW_MS,
  });
  expect(say.result).toMatchObject({ result: { lines: ['[Server] still here'] } });
  const stop = await second.run('ServerStop', 'alive', {});
  expect(stop.result).toMatchObject({ result: { exitCode: 0, stoppedBy: 'graceful' } });
});

it('restarts a server with a new spec: the old process gone, a new one ready', async () => {
  const { run, spec, supervisor } = kit();
  await run('ServerStart', 'srv-4', spec());
  const oldPid = supervisor.snapshot('srv-4')?.pid as number;
  const restart = await run('ServerRestart', 'srv-4', spec({ env: { READY_DELAY_MS: '50' } }));
  expect(restart.result).toMatchObject({
    status: 'completed',
    result: { pid: expect.any(Number) as unknown },
  });
  const newPid = (restart.result as { result: { pid: number } }).result.pid;
  expect(newPid).not.toBe(oldPid);
  // The stop takes the first half of the progress, the start the second.
  const percents = restart.test.events.flatMap((event) => (event.kind === 'progress' ? [event.percent] : []));
  expect(percents).toEqual([0, 50, 75, 100]);
  expect(isProcessGone(oldPid)).toBe(true);
  expect(supervisor.snapshot('srv-4')).toMatchObject({
    state: 'running',
    pid: newPid,
    spec: { env: { READY_DELAY_MS: '50' } },
  });
  expect(restart.stdout()).toContain('Stopping server');
});

it('undoes a start that is not ready in time, or that is cancelled', async () => {
  const { run, spec, supervisor } = kit();
  const late = await run(
    'ServerStart',
    'late',
    spec({ readyPattern: 'never printed', readyTimeoutSeconds: 1 }),
  );
  expect(late.result).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('printed no line matching spec.readyPattern within 1s') as unknown,
  });
  expect(supervisor.snapshot('late')).toMatchObject({ state: 'stopped', pid: null, lastExitCode: 0 });

  const cancel = new AbortController();
  const cancelled = run('ServerStart', 'cancelled', spec({ readyPattern: 'never printed' }), {
    signal: cancel.signal,
  });
  const pid = await waitFor(() => supervisor.snapshot('cancelled')?.pid, {
    description: 'the server to start',
  });
  cancel.abort({ kind: 'cancelled', reason: 'cancelled by a test', gracePeriodMs: 5_000 });
  expect((await cancelled).result).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('was stopped') as unknown,
  });
  expect(isProcessGone(pid)).toBe(true);
  expect(supervisor.snapshot('cancelled')).toMatchObject({ state: 'stopped', pid: null });
});
