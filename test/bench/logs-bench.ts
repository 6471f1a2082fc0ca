import { performance } from 'node:perf_hooks';
import { openLogStream } from '../support/log-stream-client.js';
import { waitFor } from '../support/wait-for.js';
import type { BenchTarget } from './lifecycle-bench.js';
import { round, summarize } from './stats.js';

async function startCommand(t: BenchTarget, command: string): Promise<string> {
  const response = await fetch(`${t.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'Command',
      name: 'log-bench',
      targetType: 'Bench',
      targetId: 'logs',
      nodeId: t.nodeId,
      payload: { command, shell: true },
    }),
  });
  const { id } = (await response.json()) as { id: string };
  return waitFor(
    async () => {
      const task = await fetch(`${t.baseUrl}/api/v1/tasks/${id}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      return ((await task.json()) as { currentExecutionId: string | null }).currentExecutionId ?? undefined;
    },
    { timeoutMs: 30_000, description: 'the log bench task to be dispatched' },
  );
}

/**
 * Agent → WebSocket client: a program prints `lines` lines (paced by `node` at ~`ratePerSecond`,
 * or as fast as it can when 0); a client connected before it starts records, per line, the delay
 * from the agent reading it (the line's `ts`) to the client receiving it, and the line rate.
 */
export async function benchLogStream(t: BenchTarget, lines: number, ratePerSecond: number) {
  const program =
    ratePerSecond > 0
      ? `sleep 1; node -e "let i=0;const t=setInterval(()=>{for(let k=0;k<${Math.max(1, Math.round(ratePerSecond / 1000))};k++)console.log('line',++i);if(i>=${lines})clearInterval(t)},1)"`
      : `sleep 1; seq 1 ${lines} | sed 's/^/line /'`;
  const executionId = await startCommand(t, program);
  const delays: number[] = [];
  let first = 0;
  let last = 0;
  const client = await openLogStream(t.baseUrl, executionId, t.token, {
    onFrame: (frame) => {
      if (frame.type !== 'line') return;
      const now = Date.now();
      delays.push(now - Date.parse(frame.ts));
      if (!first) first = performance.now();
      last = performance.now();
    },
  });
  const closed = await client.closed;
  const received = delays.length;
  const gaps = client.frames.filter((frame) => frame.type === 'gap');
  return {
    lines,
    ratePerSecond,
    received,
    gaps: gaps.length,
    closeCode: closed.code,
    linesPerSecond: round(received / Math.max(0.001, (last - first) / 1000), 0),
    delayMs: summarize(delays),
  };
}
