import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { startTcpProxy } from '../../agent/src/testing/tcp-proxy.js';
import { keys, openScenario, type Scenario } from '../support/fault-scenario.js';
import { descendantsOf, killHard } from '../support/process-tree.js';
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
        { 'command processes at the kill': inFlight },
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

async function runningOn(scenario: Scenario, nodeId: string): Promise<number> {
  const { rows } = await scenario.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM executions WHERE node_id = $1 AND status = 'Running'`,
    [nodeId],
  );
  return rows[0]?.n ?? 0;
}

describe('a node lost for good', () => {
  it('with a second node online: its tasks finish on the second node within 60 s', async () => {
    const scenario = await openScenario(infra, 'node lost for good, a second node online');
    try {
      await scenario.startControlPlane(); // NODE_LOST_AFTER_SECONDS: the default (30)
      const lostNode = `${scenario.prefix}-lost`;
      const survivor = `${scenario.prefix}-survivor`;
      const lost = await scenario.startAgent(lostNode, { capacity: 5 });
      await scenario.startAgent(survivor, { capacity: 5 });
      await scenario.waitForNodeOnline(lostNode);
      await scenario.waitForNodeOnline(survivor);
      const expected = keys('lost-node', 20);
      // The deadline is far: only the lost-node handling can finish these tasks within 60 s.
      await scenario.createTasks(expected, () => 'sleep 3', {
        extra: { timeoutSeconds: 300, maxRetries: 3 },
      });
      await scenario.explain(
        waitFor(async () => (await runningOn(scenario, lostNode)) >= 3, {
          timeoutMs: 30_000,
          description: `commands running on ${lostNode}`,
        }),
      );

      // Power loss: the agent and every command it started die at once.
      const commands = descendantsOf(lost.pid);
      await killHard(lost);
      for (const pid of commands) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const faultEndedAt = Date.now();
      const { rows: stranded } = await scenario.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM executions WHERE node_id = $1 AND status IN ('Dispatched', 'Accepted', 'Running')`,
        [lostNode],
      );

      const { allFinal, at } = await scenario.waitUntilAllFinal(60_000);
      await scenario.waitForCommandsToExit();
      const tally = await scenario.tally(expected);
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        { 'executions on the lost node': stranded[0]?.n ?? 0 },
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

interface LogPage {
  items: { seq: number; text: string }[];
  gaps: unknown[];
}

describe("the agent's broker connection cut", () => {
  const LINES = 100;
  const TASKS = 20;

  it('for 30 s while tasks run and print: every report and every log line arrives, in order', async () => {
    const scenario = await openScenario(infra, "agent's broker connection cut for 30 s", {
      // Longer than the cut: this scenario is about the agent's spool, not about lost nodes.
      controlPlaneEnv: { NODE_LOST_AFTER_SECONDS: '120', MAX_CONCURRENT_TASKS_PER_NODE: String(TASKS) },
    });
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: infra.broker.port });
    try {
      await scenario.startControlPlane();
      const nodeId = `${scenario.prefix}-node`;
      await scenario.startAgent(nodeId, {
        capacity: TASKS,
        amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      });
      await scenario.waitForNodeOnline(nodeId);
      const expected = keys('cut', TASKS);
      const rows = await scenario.createTasks(
        expected,
        (key) => `for i in $(seq 1 ${LINES}); do echo "${key} line $i"; sleep 0.1; done`,
        { extra: { timeoutSeconds: 300 } },
      );
      await scenario.explain(
        waitFor(async () => (await runningOn(scenario, nodeId)) === TASKS, {
          timeoutMs: 30_000,
          description: 'every task to run',
        }),
      );

      proxy.cut();
      await sleep(30_000); // the outage itself
      const faultEndedAt = Date.now();
      proxy.restore();

      const { allFinal, at } = await scenario.waitUntilAllFinal(90_000);
      await scenario.waitForCommandsToExit();
      let missingLines = 0;
      let outOfOrder = 0;
      let missingReports = 0;
      for (const row of rows) {
        const executions = await scenario.api<{ items: { executionId: string }[] }>(
          'GET',
          `/api/v1/tasks/${row.id}/executions`,
        );
        const events = await scenario.api<{
          items: { fromStatus: string | null; toStatus: string | null }[];
        }>('GET', `/api/v1/tasks/${row.id}/events`);
        const transitions = events.body.items.map((event) => `${event.fromStatus}→${event.toStatus}`);
        if (!transitions.includes('Scheduled→Running') || !transitions.includes('Running→Completed')) {
          missingReports++;
        }
        const execution = executions.body.items.at(-1);
        if (!execution) continue;
        const page = await scenario.api<LogPage>(
          'GET',
          `/api/v1/tasks/executions/${execution.executionId}/logs?limit=5000`,
        );
        const texts = page.body.items.map((line) => line.text);
        const wanted = Array.from({ length: LINES }, (_, index) => `${row.key} line ${index + 1}`);
        missingLines += wanted.filter((line) => !texts.includes(line)).length;
        const present = texts.filter((text) => wanted.includes(text));
        if (
          present.some(
            (text, index) => index > 0 && wanted.indexOf(text) < wanted.indexOf(present[index - 1]!),
          )
        ) {
          outOfOrder++;
        }
      }
      const tally = await scenario.tally(expected);
      const figures = await recordScenario(
        scenario,
        infra.broker.url,
        tally,
        { faultEndedAt, allFinalAt: allFinal ? at : null },
        {
          'log lines missing': `${missingLines} of ${LINES * TASKS}`,
          'executions with lines out of order': outOfOrder,
          'tasks missing a report': missingReports,
        },
      );
      expect({ ...zeroTargets(figures), missingLines, outOfOrder, missingReports }).toEqual({
        ...ZEROS,
        missingLines: 0,
        outOfOrder: 0,
        missingReports: 0,
      });
    } finally {
      await scenario.close();
      await proxy.close();
    }
  });
});
