import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { keys, openScenario, type Scenario } from '../support/fault-scenario.js';
import { waitFor } from '../support/wait-for.js';

const infra = usePrivateInfra();
const TASKS = 60;

async function readyzStatus(scenario: Scenario): Promise<number | string> {
  try {
    const response = await fetch(`${scenario.controlPlane.baseUrl}/readyz`, {
      signal: AbortSignal.timeout(3_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return error instanceof Error ? error.name : 'error';
  }
}

describe('kill -9 of the broker mid-run', () => {
  it('restarted 10 s later: every task Completed, none timed out, every effect once', async () => {
    const scenario = await openScenario(infra, 'broker kill -9, restart after 10 s');
    try {
      await scenario.startControlPlane();
      const nodeId = `${scenario.prefix}-node`;
      await scenario.startAgent(nodeId, { capacity: 10 });
      await scenario.waitForNodeOnline(nodeId);
      const expected = keys('broker-crash', TASKS);
      // A command lost on the way ends Timeout 30 s (+5 s grace) after its dispatch, not stuck for minutes.
      await scenario.createTasks(expected, () => 'sleep 1', { extra: { timeoutSeconds: 30 } });

      await scenario.explain(
        waitFor(() => scenario.effects().size >= TASKS / 4, {
          timeoutMs: 60_000,
          description: 'a quarter of the tasks to have run',
        }),
      );
      const inFlight = scenario.runningCommands().length;
      await infra.broker.crash();
      await sleep(5_000); // the outage itself (10 s in all)
      const readyzDuringOutage = await readyzStatus(scenario);
      await sleep(5_000);
      const faultEndedAt = Date.now();
      await infra.broker.start();
      const brokerUpAt = Date.now();
      const readyAgain = await waitFor(async () => (await readyzStatus(scenario)) === 200, {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: 'the control plane to be ready again',
      })
        .then(() => Date.now())
        .catch(() => null);

      const { allFinal, at } = await scenario.waitUntilAllFinal(90_000);
      await scenario.waitForCommandsToExit();
      const tally = await scenario.tally(expected);
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        {
          'command processes at the crash': inFlight,
          '/readyz during the outage': readyzDuringOutage,
          'ready again after the broker (s)':
            readyAgain === null ? 'not within 60 s' : ((readyAgain - brokerUpAt) / 1000).toFixed(1),
        },
      );
      expect(
        zeroTargets(figures),
        JSON.stringify({ statuses: figures.statuses, duplicates: tally.duplicateHistories }),
      ).toEqual(ZEROS);
    } finally {
      await scenario.close();
    }
  });
});
