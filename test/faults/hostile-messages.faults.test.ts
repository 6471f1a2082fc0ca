import { connect } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { programRssMiB } from '../bench/rss-sampler.js';
import { usePrivateInfra } from '../support/fault-infra.js';
import { recordScenario, ZEROS, zeroTargets } from '../support/fault-results.js';
import { keys, openScenario, type Scenario } from '../support/fault-scenario.js';
import { cpuSeconds } from '../support/process-tree.js';
import { waitFor } from '../support/wait-for.js';
import { hostileMessage, type HostileTarget } from '../support/hostile-messages.js';

const infra = usePrivateInfra();
const HOSTILE = 10_000;
const TASKS = 200;
const PUBLISH_BATCH = 250;
/** Peak resident memory allowed to the control plane (tsx and Node included) during the barrage. */
const RSS_LIMIT_MIB = 768;
/** Publishing and creating stop here, so that a control plane or broker that stalls still yields figures. */
const PHASE_MS = 90_000;

async function within(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the real tasks two at a time, one attempt each (no retry: a retry could duplicate), until the deadline. */
async function createBounded(scenario: Scenario, taskKeys: string[], deadline: number) {
  const queue = [...taskKeys];
  let failed = 0;
  const client = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      if (Date.now() > deadline) {
        failed++;
        continue;
      }
      const status = await scenario
        .api('POST', '/api/v1/tasks', {
          body: scenario.commandTask(key, 'true', { timeoutSeconds: 60 }),
          timeoutMs: 15_000,
        })
        .then((response) => response.status)
        .catch(() => 0);
      if (status !== 201) failed++;
    }
  };
  await Promise.all([client(), client()]);
  return { failed };
}

async function refreshTarget(scenario: Scenario, target: HostileTarget): Promise<void> {
  const executions = await scenario.db.query<{ taskId: string; executionId: string }>(
    `SELECT task_id AS "taskId", id AS "executionId" FROM executions WHERE org_id = $1`,
    [scenario.orgId],
  );
  target.executions = executions.rows;
  const reports = await scenario.db.query<{ messageId: string; taskId: string; executionId: string }>(
    `SELECT message_id AS "messageId", task_id AS "taskId", execution_id AS "executionId"
       FROM task_events WHERE org_id = $1 AND type = 'TaskCompleted' AND message_id IS NOT NULL`,
    [scenario.orgId],
  );
  target.appliedReports = reports.rows;
}

describe('10,000 hostile messages with 200 real tasks among them', () => {
  it(
    'every real task Completed once, the control plane up, its memory bounded',
    { timeout: 330_000 },
    async () => {
      const scenario = await openScenario(infra, '10,000 hostile messages, 200 real tasks', {
        controlPlaneEnv: { MAX_CONCURRENT_TASKS_PER_NODE: '20' },
      });
      const connection = await connect(infra.broker.url);
      let sampler: NodeJS.Timeout | undefined;
      try {
        await scenario.startControlPlane();
        const nodeId = `${scenario.prefix}-node`;
        await scenario.startAgent(nodeId, { capacity: 20 });
        await scenario.waitForNodeOnline(nodeId);
        const channel = await connection.createConfirmChannel();
        const target: HostileTarget = {
          prefix: scenario.prefix,
          nodeId,
          orgId: scenario.orgId,
          executions: [],
          appliedReports: [],
        };
        let peakRss = 0;
        sampler = setInterval(() => {
          peakRss = Math.max(peakRss, programRssMiB(scenario.controlPlane.pid) || 0);
        }, 200);
        const expected = keys('hostile', TASKS);
        const startedAt = Date.now();
        const phaseDeadline = startedAt + PHASE_MS;
        const creating = createBounded(scenario, expected, phaseDeadline);
        let published = 0;
        for (let index = 0; index < HOSTILE && Date.now() < phaseDeadline; index++) {
          if (index % PUBLISH_BATCH === 0) {
            if (!(await within(channel.waitForConfirms(), phaseDeadline))) break;
            await refreshTarget(scenario, target);
          }
          const message = hostileMessage(index, target);
          channel.publish(message.exchange, message.routingKey, message.body, {
            contentType: 'application/json',
            persistent: true,
            messageId: message.messageId,
            type: message.type,
            headers: message.headers,
          });
          published++;
        }
        const confirmed = await within(channel.waitForConfirms(), phaseDeadline + 10_000);
        const publishedAt = Date.now();
        const created = await creating;

        const { allFinal, at } = await scenario.waitUntilAllFinal(120_000);
        await scenario.waitForCommandsToExit().catch(() => undefined);
        // Once its queues are drained the control plane must go quiet: a message requeued without
        // end keeps a core busy (and its queue never empties).
        const drained = await waitFor(async () => (await scenario.backlog()) === 0, {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: 'the control plane to drain its queues',
        }).catch(() => false);
        const cpuBefore = cpuSeconds(scenario.controlPlane.pid);
        await sleep(5_000);
        const cpuPercent = Math.round(((cpuSeconds(scenario.controlPlane.pid) - cpuBefore) / 5) * 100);
        clearInterval(sampler);
        const alive = scenario.controlPlane.process.exitCode === null;
        const readyz = await fetch(`${scenario.controlPlane.baseUrl}/readyz`)
          .then((response) => response.status)
          .catch(() => 0);
        const deadLetters = await scenario.deadLetters();

        const tally = await scenario.tally(expected);
        const figures = await recordScenario(
          scenario,
          infra.broker.url,
          tally,
          { faultEndedAt: publishedAt, allFinalAt: allFinal ? at : null },
          {
            'hostile messages': `${published}${confirmed ? '' : ' (not all confirmed)'} in ${((publishedAt - startedAt) / 1000).toFixed(1)} s`,
            'POST /tasks failed': created.failed,
            'control plane up': alive && readyz === 200,
            'peak RSS (MiB)': Math.round(peakRss),
            'queues drained': drained,
            'CPU once drained (% of a core)': cpuPercent,
            'dead-lettered (agent-events/logs)': `${deadLetters.agentEvents}/${deadLetters.logs}`,
            'most frequent warnings and errors': scenario.problems(4).join(', ') || 'none',
          },
        );
        expect(
          { ...zeroTargets(figures), published, drained, createFailures: created.failed, alive, readyz },
          JSON.stringify({ statuses: figures.statuses, duplicates: tally.duplicateHistories }),
        ).toEqual({
          ...ZEROS,
          published: HOSTILE,
          drained: true,
          createFailures: 0,
          alive: true,
          readyz: 200,
        });
        expect(peakRss).toBeLessThan(RSS_LIMIT_MIB);
        expect(cpuPercent).toBeLessThan(50);
      } finally {
        clearInterval(sampler);
        await connection.close().catch(() => undefined);
        await scenario.close();
      }
    },
  );
});
