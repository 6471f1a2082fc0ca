import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { keys, openScenario, type Scenario } from '../support/fault-scenario.js';
import { killHard } from '../support/process-tree.js';
import { findFreePort } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const infra = usePrivateInfra();
const RUNNING = 20;
const BURST = 100;
const CLIENTS = 10;
const CLIENT_DEADLINE_MS = 90_000;

interface BurstStats {
  answered: number;
  retries: number;
  gaveUp: string[];
}

/**
 * A client that creates one task per key with `Idempotency-Key: <key>` and retries the same
 * request (same key, same body) after a socket error or a 5xx until it gets an answer.
 */
async function postBurst(scenario: Scenario, burstKeys: string[], stats: BurstStats): Promise<void> {
  const queue = [...burstKeys];
  const client = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const body = scenario.commandTask(key, 'sleep 0.5', { timeoutSeconds: 60 });
      const deadline = Date.now() + CLIENT_DEADLINE_MS;
      for (let attempt = 1; ; attempt++) {
        const status = await scenario
          .api('POST', '/api/v1/tasks', { body, headers: { 'idempotency-key': key } })
          .then((response) => response.status)
          .catch(() => 0);
        if (status > 0 && status < 500) {
          stats.answered++;
          break;
        }
        if (Date.now() > deadline) {
          stats.gaveUp.push(key);
          break;
        }
        stats.retries++;
        await sleep(Math.min(100 * attempt, 1_000)); // the client's own backoff
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
}

describe('kill -9 of the control plane mid-run and mid-POST-burst', () => {
  it('with Idempotency-Key and client retries: no duplicate task, every task Completed once', async () => {
    const scenario = await openScenario(infra, 'control plane kill -9 during a POST burst');
    try {
      const port = await findFreePort();
      const first = await scenario.startControlPlane({ port });
      const nodeId = `${scenario.prefix}-node`;
      await scenario.startAgent(nodeId, { capacity: 10 });
      await scenario.waitForNodeOnline(nodeId);
      const runningKeys = keys('cp-running', RUNNING);
      await scenario.createTasks(runningKeys, () => 'sleep 2', { extra: { timeoutSeconds: 60 } });
      await scenario.explain(
        waitFor(() => scenario.runningCommands().length > 0, { description: 'commands to run' }),
      );

      const burstKeys = keys('cp-burst', BURST);
      const stats: BurstStats = { answered: 0, retries: 0, gaveUp: [] };
      const burst = postBurst(scenario, burstKeys, stats);
      await waitFor(() => stats.answered >= BURST / 3, {
        timeoutMs: 60_000,
        intervalMs: 5,
        description: 'a third of the burst to be answered',
      });
      await killHard(first);
      const faultEndedAt = Date.now();
      await scenario.startControlPlane({ port });
      await burst;

      const { allFinal, at } = await scenario.waitUntilAllFinal(90_000);
      await scenario.waitForCommandsToExit();
      const expected = [...runningKeys, ...burstKeys];
      const tally = await scenario.tally(expected);
      const rows = await scenario.tasks();
      const duplicateTasks = rows.length - new Set(rows.map((row) => row.key)).size;
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        {
          'duplicate tasks': duplicateTasks,
          'POST retries': stats.retries,
          'clients that gave up': stats.gaveUp.length,
        },
      );
      expect(
        { ...zeroTargets(figures), duplicateTasks },
        JSON.stringify({ statuses: figures.statuses, duplicates: tally.duplicateHistories }),
      ).toEqual({
        ...ZEROS,
        duplicateTasks: 0,
      });
    } finally {
      await scenario.close();
    }
  });
});
