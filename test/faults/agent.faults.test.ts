import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { keys, killHard, openScenario } from '../support/fault-scenario.js';
import { waitFor } from '../support/wait-for.js';

const infra = usePrivateInfra();
const TASKS = 60;

describe('kill -9 of the agent mid-run', () => {
  it('restarted 5 s later: every task Completed, every effect exactly once', async () => {
    const scenario = await openScenario(infra, 'agent kill -9, restart after 5 s');
    try {
      await scenario.startControlPlane();
      const nodeId = `${scenario.prefix}-node`;
      const agent = await scenario.startAgent(nodeId, { capacity: 10 });
      await scenario.waitForNodeOnline(nodeId);
      const expected = keys('agent-crash', TASKS);
      await scenario.createTasks(expected, () => 'sleep 1', { extra: { timeoutSeconds: 30 } });

      await scenario.explain(
        waitFor(() => scenario.effects().size >= TASKS / 4, {
          timeoutMs: 60_000,
          description: 'a quarter of the tasks to have run',
        }),
      );
      const inFlight = scenario.runningCommands().length;
      await killHard(agent);
      await sleep(5_000); // the outage itself
      const faultEndedAt = Date.now();
      await scenario.startAgent(nodeId, { capacity: 10 });

      const { allFinal, at } = await scenario.waitUntilAllFinal(90_000);
      await scenario.waitForCommandsToExit();
      const tally = await scenario.tally(expected);
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        { 'commands running at the kill': inFlight },
      );
      expect(zeroTargets(figures), JSON.stringify(figures.statuses)).toEqual(ZEROS);
    } finally {
      await scenario.close();
    }
  });
});
