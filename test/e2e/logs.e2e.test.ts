import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutionLogPage, LogStreamFrame } from '@meridian/contracts/api/execution-log';
import { topology } from '@meridian/contracts/topology';
import { logStreamRefusal, openLogStream } from '../support/log-stream-client.js';
import { startControlPlane, type ControlPlaneProcess } from '../support/processes.js';
import { waitFor } from '../support/test-context.js';
import { commandTask, useStack } from './stack.js';

const stack = useStack();
const extraProcesses: ControlPlaneProcess[] = [];
const gates = mkdtempSync(join(tmpdir(), 'meridian-logs-e2e-'));
afterAll(async () => {
  await Promise.all(extraProcesses.map((process) => process.stop()));
  rmSync(gates, { recursive: true, force: true });
});

/**
 * A command that prints numbered lines once the test opens its gate (after its client connected),
 * so that the client is there from the first line however long the dispatch took.
 */
function numberedLines(count: number, pause = '0.003') {
  const gate = join(gates, randomUUID());
  const task = commandTask(
    `while [ ! -e '${gate}' ]; do sleep 0.02; done; ` +
      `i=1; while [ $i -le ${count} ]; do echo "line $i"; i=$((i+1)); sleep ${pause}; done`,
  );
  return { task, open: () => writeFileSync(gate, '') };
}

async function executionIdOf(taskId: string): Promise<string> {
  return waitFor(
    async () => {
      const { body } = await stack.api<{ currentExecutionId: string | null }>(
        'GET',
        `/api/v1/tasks/${taskId}`,
      );
      return body.currentExecutionId ?? undefined;
    },
    { description: `task ${taskId} to be dispatched` },
  );
}

function expectExactly(seqs: number[], count: number) {
  expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe('live execution logs, real processes', () => {
  it('streams 1,000 lines in order to a client connected from the start, then the end frame and 1000', async () => {
    const printer = numberedLines(1000);
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: printer.task });
    const executionId = await executionIdOf(created.body.id);
    const early = await openLogStream(stack.controlPlane.baseUrl, executionId, stack.token);
    printer.open();

    await early.until((frames) => frames.filter((f) => f.type === 'line').length >= 500);
    const late = await openLogStream(stack.controlPlane.baseUrl, executionId, stack.token, { after: 0 });

    const [earlyClose, lateClose] = await Promise.all([early.closed, late.closed]);
    expect(earlyClose.code).toBe(1000);
    expect(lateClose.code).toBe(1000);
    for (const client of [early, late]) {
      expectExactly(client.seqs(), 1000);
      const lines = client.frames.filter(
        (f): f is Extract<LogStreamFrame, { type: 'line' }> => f.type === 'line',
      );
      expect(lines.map((l) => l.text)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`));
      expect(client.frames.filter((f) => f.type === 'gap')).toEqual([]);
      expect(client.frames.at(-1)).toMatchObject({ type: 'end', status: 'Completed', exitCode: 0 });
    }

    const resumed = await openLogStream(stack.controlPlane.baseUrl, executionId, stack.token, { after: 990 });
    await resumed.closed;
    expect(resumed.seqs()).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
  });

  it('serves every line from a replica that does not consume the log queue', async () => {
    const viewer = await startControlPlane({
      databaseUrl: stack.databaseUrl,
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      env: { CONSUME_LOGS: 'false' },
    });
    extraProcesses.push(viewer);
    const printer = numberedLines(300, '0.005');
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: printer.task });
    const executionId = await executionIdOf(created.body.id);
    const client = await openLogStream(viewer.baseUrl, executionId, stack.token);
    printer.open();
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expectExactly(client.seqs(), 300);
  });

  it('keeps head and tail of a program that prints more than the limit, and announces the gap', async () => {
    // 3,000 lines of ~100 bytes ≈ 300 KiB, far over the 64 KiB kept.
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: commandTask(`i=1; while [ $i -le 3000 ]; do printf 'row %05d %090d\\n' $i 0; i=$((i+1)); done`),
    });
    const executionId = await executionIdOf(created.body.id);
    await stack.waitForStatus(created.body.id, ['Completed']);
    const page = await waitFor(
      async () => {
        const { body } = await stack.api<ExecutionLogPage>(
          'GET',
          `/api/v1/tasks/executions/${executionId}/logs?after=0&limit=5000`,
        );
        return body.items.at(-1)?.seq === 3000 ? body : undefined;
      },
      { description: 'the last line to be stored' },
    );
    expect(page.ended).toBe(true);
    expect(page.truncatedBytes).toBeGreaterThan(200_000);
    expect(page.items[0]).toMatchObject({ seq: 1, text: expect.stringMatching(/^row 00001 /) as unknown });
    expect(page.items.at(-1)?.text).toMatch(/^row 03000 /);
    const kept = page.items.reduce((sum, line) => sum + Buffer.byteLength(line.text) + 1, 0);
    expect(kept).toBeLessThanOrEqual(70 * 1024);
    expect(page.gaps).toHaveLength(1);
    expect(page.gaps[0]).toMatchObject({ reason: 'truncated' });

    const client = await openLogStream(stack.controlPlane.baseUrl, executionId, stack.token);
    await client.closed;
    const gap = client.frames.find((f) => f.type === 'gap');
    expect(gap).toMatchObject({ type: 'gap', reason: 'truncated', bytes: page.gaps[0]!.bytes });
    expect(client.frames.at(-1)).toMatchObject({ type: 'end', truncatedBytes: page.truncatedBytes });
  });

  it('refuses before the upgrade: 401 without a token, 403 without task:read, 404 for another org', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: commandTask(['echo', 'hi']),
    });
    const executionId = await executionIdOf(created.body.id);
    const base = stack.controlPlane.baseUrl;
    expect(await logStreamRefusal(base, executionId, {})).toBe(401);
    const noRead = await stack.tokenFor(stack.orgId, ['task:write']);
    expect(await logStreamRefusal(base, executionId, { authorization: `Bearer ${noRead}` })).toBe(403);
    const otherOrg = await stack.tokenFor('another-org');
    expect(await logStreamRefusal(base, executionId, { authorization: `Bearer ${otherOrg}` })).toBe(404);
    const viaSubprotocol = await openLogStream(base, executionId, stack.token, { useSubprotocol: true });
    expect((await viaSubprotocol.closed).code).toBe(1000);
  });

  it('dead-letters a malformed log message and keeps streaming', async () => {
    const names = topology(stack.prefix);
    const connection = await connect(stack.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(names.logsExchange, names.logKey(stack.nodeId), Buffer.from('{ not json'), {
        contentType: 'application/json',
        messageId: randomUUID(),
      });
      await channel.waitForConfirms();
      const printer = numberedLines(50, '0.001');
      const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: printer.task });
      const executionId = await executionIdOf(created.body.id);
      const client = await openLogStream(stack.controlPlane.baseUrl, executionId, stack.token);
      printer.open();
      await client.closed;
      expectExactly(client.seqs(), 50);
      // The dead-letter store reads the queue into the database; operators see it through the API.
      const admin = await stack.tokenFor(stack.orgId, ['admin:dead-letters', 'platform:dead-letters']);
      const dead = await waitFor(
        async () => {
          const listed = await stack.api<{ items: { reason: string }[] }>(
            'GET',
            `/api/v1/admin/dead-letters?queue=${encodeURIComponent(names.logsDeadLetterQueue)}`,
            { token: admin },
          );
          return listed.body.items[0];
        },
        { description: 'the malformed message among the dead letters' },
      );
      expect(dead.reason).toMatch(/JSON/);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
