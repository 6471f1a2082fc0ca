import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../../../test/support/test-context.js';
import {
  createExecution,
  endExecution,
  freshOrg,
  main,
  makeLines,
  store,
  storeAndAnnounce,
  tokenFor,
  useLogStreamServer,
} from './log-stream.fixture.js';

useLogStreamServer();

const ROOT = resolvePath(import.meta.dirname, '../../../../..');

interface CliRun {
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `npm run logs -- …` without npm in between: tsx runs the CLI as an operator would. */
function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(`${ROOT}/node_modules/.bin/tsx`, ['services/control-plane/src/cli/logs.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  void exited.then(() => clearTimeout(timer));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

describe('npm run logs', () => {
  it('prints stdout and stderr lines to their streams, gaps as a marker, and the end status; exits 0', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await store(executionId, makeLines(1, 6));
    await store(executionId, makeLines(9, 10), { droppedBytes: 77 });
    await endExecution(executionId, 10, 'Completed', 0);
    const cli = runCli([executionId, '--url', main.baseUrl, '--after', '2'], {
      MERIDIAN_TOKEN: await tokenFor(orgId),
    });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe(['line 3', 'line 4', 'line 6', 'line 9'].map((l) => `${l}\n`).join(''));
    expect(cli.stderr()).toContain('line 5\n');
    expect(cli.stderr()).toContain('line 10\n');
    expect(cli.stderr()).toContain('[… 2 line(s) missing: 77 bytes, agent-dropped …]');
    expect(cli.stderr()).toContain('[execution Completed, exit code 0]');
  });

  it('exits non-zero with the HTTP status when refused, and 2 without a token', async () => {
    const executionId = await createExecution(freshOrg());
    const refused = runCli([executionId, '--url', main.baseUrl, '--token', await tokenFor(freshOrg())]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/error: HTTP 404 Not found: execution .* was not found/);
    const tokenless = runCli([executionId, '--url', main.baseUrl]);
    expect(await tokenless.exited).toBe(2);
    expect(tokenless.stderr()).toContain('MERIDIAN_TOKEN');
  });

  it('reconnects after the last seq it printed when the connection drops before the end', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const cli = runCli([executionId, '--url', main.baseUrl, '--token', await tokenFor(orgId)]);
    await storeAndAnnounce(executionId, makeLines(1, 4));
    await waitFor(() => cli.stdout().includes('line 4\n'), { description: 'the CLI to print line 4' });

    await main.restartStreams(); // the stream closes with 1001
    await storeAndAnnounce(executionId, makeLines(5, 8));
    await endExecution(executionId, 8);
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toMatch(/connection lost: closed with 1001 .*reconnecting after seq 4/);
    const printed = `${cli.stdout()}${cli.stderr()}`.match(/^line \d+$/gm);
    expect(printed?.sort()).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      'line 6',
      'line 7',
      'line 8',
    ]);
  });
});
