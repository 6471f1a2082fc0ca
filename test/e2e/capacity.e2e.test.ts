import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const stack = useStack({ capacity: 10 });

interface Window {
  start: number;
  end: number;
}

/** The largest number of intervals that overlap at any instant. */
function maxOverlap(windows: readonly Window[]): number {
  const edges = windows.flatMap((w) => [
    { at: w.start, delta: 1 },
    { at: w.end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const edge of edges) {
    current += edge.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

describe('node capacity', () => {
  it('runs 30 tasks on a node of capacity 10 never more than 10 at once', async () => {
    // Each task marks that it started, then waits at a gate: the first ten fill the node whatever
    // the machine's speed, and the test opens the gate once they all run.
    const dir = mkdtempSync(join(tmpdir(), 'meridian-capacity-'));
    const gate = join(dir, 'open');
    const started = () => readdirSync(dir).filter((name) => name.startsWith('started-')).length;
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
        body: {
          type: 'Command',
          name: `cap-${i}`,
          targetType: 'Service',
          targetId: 'cap',
          payload: {
            command: [
              'sh',
              '-c',
              `touch '${dir}/started-${i}'; while [ ! -e '${gate}' ]; do sleep 0.02; done`,
            ],
          },
        },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    let peakRunningCount = 0;
    const observe = setInterval(() => {
      void stack.api<{ runningCount: number }>('GET', `/api/v1/nodes/${stack.nodeId}`).then(({ body }) => {
        peakRunningCount = Math.max(peakRunningCount, body.runningCount);
      });
    }, 50);
    try {
      await waitFor(() => started() >= 10, { timeoutMs: 30_000, description: 'ten tasks at the gate' });
      expect(started()).toBe(10);
      writeFileSync(gate, '');
      for (const id of ids) await stack.waitForStatus(id, ['Completed'], 30_000);
    } finally {
      clearInterval(observe);
      rmSync(dir, { recursive: true, force: true });
    }
    const { rows } = await stack.db.query<{ started_at: Date; completed_at: Date }>(
      `SELECT e.started_at, e.completed_at FROM executions e WHERE e.task_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows).toHaveLength(30);
    const overlap = maxOverlap(
      rows.map((r) => ({ start: r.started_at.getTime(), end: r.completed_at.getTime() })),
    );
    expect(overlap).toBe(10);
    expect(peakRunningCount).toBeLessThanOrEqual(10);
  });
});
