import { lockExecutionsWithTasks } from '../persistence/execution-with-task.js';
import type { AppDeps } from './app-deps.js';
import { giveUpExecutions } from './give-up-executions.js';

/**
 * Times out executions whose deadline (plus a grace period for the agent's own report) has passed
 * without an end report: the agent died, or the report was lost. The task is retried per its
 * policy when `RETRY_ON_TIMEOUT` is set, else ends Timeout; the node is told to stop the work in
 * case it still runs; the slot is freed. Returns how many expired.
 */
export async function expireOverdueExecutions(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - deps.defaults.timeoutGraceSeconds * 1000);
  return deps.dataSource.transaction(async (manager) => {
    const due: { id: string }[] = await manager.query(
      // Both rows claimed without waiting, so that the sweep never waits in a lock cycle with a
      // batch of reports; what is skipped is taken by a later pass.
      `SELECT e.id FROM executions e JOIN tasks t ON t.id = e.task_id
        WHERE e.released_at IS NULL AND e.deadline < $1
        ORDER BY e.deadline LIMIT $2 FOR UPDATE OF e, t SKIP LOCKED`,
      [cutoff, batchSize],
    );
    if (due.length === 0) return 0;
    const locked = await lockExecutionsWithTasks(
      manager,
      due.map((row) => row.id),
    );
    await giveUpExecutions(deps, manager, 'DeadlinePassed', locked.values(), now, () => ({
      graceSeconds: deps.defaults.timeoutGraceSeconds,
    }));
    return locked.size;
  });
}
