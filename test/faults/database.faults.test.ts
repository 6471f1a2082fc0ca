import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { keys, openScenario } from '../support/fault-scenario.js';
import { waitFor } from '../support/wait-for.js';

const infra = usePrivateInfra();
const TASKS = 60;

describe('PostgreSQL stopped (immediate) mid-run', () => {
  it('for 10 s: every task Completed, none timed out, no report dead-lettered', async () => {
    const scenario = await openScenario(infra, 'PostgreSQL stopped (immediate) for 10 s');
    try {
      await scenario.startControlPlane();
      const nodeId = `${scenario.prefix}-node`;
      await scenario.startAgent(nodeId, { capacity: 10 });
      await scenario.waitForNodeOnline(nodeId);
      const expected = keys('database-outage', TASKS);
      await scenario.createTasks(expected, () => 'sleep 1', { extra: { timeoutSeconds: 30 } });

      await scenario.explain(
        waitFor(() => scenario.effects().size >= TASKS / 4, {
          timeoutMs: 60_000,
          description: 'a quarter of the tasks to have run',
        }),
      );
      const inFlight = scenario.runningCommands().length;
      await infra.postgres.stopImmediate();
      await sleep(3_000);
      const during = await scenario
        .api<{ status?: number }>('GET', '/api/v1/tasks?limit=1')
        .then(
          (response) => `${response.status}${response.headers.get('retry-after') ? ' with Retry-After' : ''}`,
        )
        .catch((error: unknown) => (error instanceof Error ? error.name : 'error'));
      await sleep(7_000); // the outage itself (10 s in all)
      const faultEndedAt = Date.now();
      await infra.postgres.start();

      const { allFinal, at } = await scenario.waitUntilAllFinal(90_000);
      await scenario.waitForCommandsToExit();
      const tally = await scenario.tally(expected);
      const deadLetters = await scenario.deadLetters();
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        {
          'command processes at the stop': inFlight,
          'GET /tasks during the outage': during,
          'reports dead-lettered': deadLetters.agentEvents,
          'log chunks dead-lettered': deadLetters.logs,
        },
      );
      expect(
        { ...zeroTargets(figures), deadLetters },
        JSON.stringify({ statuses: figures.statuses, duplicates: tally.duplicateHistories }),
      ).toEqual({
        ...ZEROS,
        deadLetters: { agentEvents: 0, logs: 0 },
      });
    } finally {
      await scenario.close();
    }
  });
});
