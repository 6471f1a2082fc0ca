import { describe, expect, it } from 'vitest';
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
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
        body: {
          type: 'Command',
          name: `cap-${i}`,
          targetType: 'Node',
          targetId: 'cap',
          payload: { command: ['sleep', '0.3'] },
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
      for (const id of ids) await stack.waitForStatus(id, ['Completed'], 30_000);
    } finally {
      clearInterval(observe);
    }
    const { rows } = await stack.db.query<{ started_at: Date; completed_at: Date }>(
      `SELECT e.started_at, e.completed_at FROM executions e WHERE e.task_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows).toHaveLength(30);
    const overlap = maxOverlap(
      rows.map((r) => ({ start: r.started_at.getTime(), end: r.completed_at.getTime() })),
    );
    expect(overlap).toBeLessThanOrEqual(10);
    expect(overlap).toBeGreaterThanOrEqual(5);
    expect(peakRunningCount).toBeLessThanOrEqual(10);
  });
});
