/**
 * Lines/s one logs consumer stores, by prefetch and batch size: the logs queue is filled first
 * (chunks of many executions, each execution's chunks in seq order), then one consumer drains it
 * into a fresh database. `npx tsx test/bench/log-consumer-bench.ts [linesPerChunk] [chunks]`;
 * `LOG_BENCH_GRID="prefetch/batch,…"` picks the settings (default: a grid around the defaults).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect as connectAmqp } from 'amqplib';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { topology as buildTopology } from '@meridian/contracts/topology';
import { createTask } from '@meridian/control-plane/app/create-task';
import { dispatchPendingTasks } from '@meridian/control-plane/app/dispatch-pending-tasks';
import { recordAgentMessages } from '@meridian/control-plane/app/record-agent-messages';
import { storeReceivedLogChunks } from '@meridian/control-plane/logs/store/store-log-chunks';
import { controlPlaneDeclarations } from '@meridian/control-plane/messaging/broker-topology';
import { startLogsConsumer } from '@meridian/control-plane/messaging/logs.consumer';
import { TaskEntity } from '@meridian/control-plane/persistence/entities/task.entity';
import { actorOf, createTestAppDeps, heartbeat } from '../support/app-deps.js';
import { deleteBrokerObjects } from '../support/broker.js';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { createDatabaseIfMissing, dropDatabase, randomDatabaseName } from '../support/database.js';
import { resolveInfrastructure, withDatabase } from '../support/infra.js';
import { waitFor } from '../support/wait-for.js';

const linesPerChunk = Number(process.argv[2] ?? 100);
const chunkCount = Number(process.argv[3] ?? 2000);
const executions = 20;
const lineText = (seq: number) => `${new Date().toISOString()} INFO worker[${seq % 7}] processed item ${seq}`;
const grid = (process.env['LOG_BENCH_GRID'] ?? '20/20,100/50,200/100,500/200,500/500,1000/500')
  .split(',')
  .map((pair) => pair.split('/').map(Number) as [number, number]);

/** CPU seconds used so far by this process and by every process whose name starts with `name`. */
function cpuSeconds(name: string): { self: number; others: number } {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  let others = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm.startsWith(name)) others += ticks(stat);
    } catch {
      // gone meanwhile
    }
  }
  return { self: ticks(readFileSync('/proc/self/stat', 'utf8')), others };
}

async function run(serverUrl: string, amqpUrl: string, prefetch: number, batchSize: number) {
  const dbName = randomDatabaseName('meridian_logbench');
  await createDatabaseIfMissing(serverUrl, dbName);
  await runMigrations(withDatabase(serverUrl, dbName));
  const deps = await createTestAppDeps(withDatabase(serverUrl, dbName));
  deps.topology = buildTopology(`bench-${randomUUID().slice(0, 8)}`);
  const declarations = controlPlaneDeclarations(deps.topology);
  const connection = new Connection({ url: amqpUrl, noDelay: true });
  const publisher = connection.createPublisher({
    confirm: true,
    exchanges: declarations.exchanges,
    queues: [declarations.logsQueue, declarations.logsDeadLetterQueue],
    queueBindings: declarations.queueBindings.filter(
      (b) => b.queue === deps.topology.logsQueue || b.queue === deps.topology.logsDeadLetterQueue,
    ),
  });
  try {
    const targets: { nodeId: string; taskId: string; executionId: string }[] = [];
    const orgId = 'org-bench';
    for (let i = 0; i < executions; i += 1) {
      // A node takes at most MAX_CONCURRENT_TASKS_PER_NODE (10) executions.
      const nodeId = `node-bench-${Math.floor(i / 10)}`;
      if (i % 10 === 0) await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
      const task = await createTask(deps, actorOf(orgId), {
        type: 'Command',
        name: 'bench',
        priority: 'Normal',
        targetType: 'Node',
        targetId: nodeId,
        nodeId,
        payload: { command: ['echo', 'hi'] },
        metadata: {},
      });
      await dispatchPendingTasks(deps, 100);
      const row = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
      targets.push({ nodeId, taskId: task.id, executionId: row.currentExecutionId! });
    }
    // Declare the queue, then fill it before anything consumes.
    await publisher.send({ exchange: deps.topology.liveLogsExchange, routingKey: 'warm-up' }, {});
    const amqp = await connectAmqp(amqpUrl);
    const channel = await amqp.createConfirmChannel();
    const nextSeq = new Map<string, number>();
    let bytes = 0;
    for (let c = 0; c < chunkCount; c += 1) {
      const target = targets[c % targets.length]!;
      const first = nextSeq.get(target.executionId) ?? 1;
      const lines = Array.from({ length: linesPerChunk }, (_, i) => {
        const text = lineText(first + i);
        bytes += text.length + 1;
        return { seq: first + i, stream: 'stdout', ts: new Date().toISOString(), text };
      });
      nextSeq.set(target.executionId, first + linesPerChunk);
      const body = {
        messageId: randomUUID(),
        type: 'LogChunk',
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        correlationId: 'bench',
        nodeId: target.nodeId,
        payload: { taskId: target.taskId, executionId: target.executionId, lines, droppedBytes: 0 },
      };
      channel.publish(
        deps.topology.logsExchange,
        deps.topology.logKey(target.nodeId),
        Buffer.from(JSON.stringify(body)),
        {
          contentType: 'application/json',
          persistent: true,
        },
      );
      if (c % 200 === 199) await channel.waitForConfirms();
    }
    await channel.waitForConfirms();
    await channel.close();
    await amqp.close();

    const total = chunkCount * linesPerChunk;
    const cpuBefore = cpuSeconds('postgres');
    const started = performance.now();
    const logs = startLogsConsumer({
      connection,
      publisher,
      topology: deps.topology,
      keyring: deps.keyring,
      prefetch,
      batchSize,
      logger: pino({ level: 'silent' }),
      store: (chunks) => storeReceivedLogChunks(deps, chunks, { maxBytes: 65_536 }),
    });
    await waitFor(() => logs.stats().lines >= total, { timeoutMs: 600_000, intervalMs: 20 });
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpuSeconds('postgres');
    await logs.consumer.close();
    await logs.drain();
    const [stat] = await deps.dataSource.query<{ transactions: string }[]>(
      `SELECT xact_commit AS transactions FROM pg_stat_database WHERE datname = current_database()`,
    );
    console.log(
      `prefetch ${String(prefetch).padStart(4)} batch ${String(batchSize).padStart(4)}: ` +
        `${Math.round(total / seconds)} lines/s, ${Math.round(chunkCount / seconds)} chunks/s, ` +
        `${(bytes / seconds / 1024 / 1024).toFixed(1)} MiB/s (${total} lines in ${seconds.toFixed(2)} s; ` +
        `${stat?.transactions} commits in the database; CPU s: consumer ` +
        `${(cpuAfter.self - cpuBefore.self).toFixed(1)}, PostgreSQL ${(cpuAfter.others - cpuBefore.others).toFixed(1)})`,
    );
    await deps.dataSource.destroy();
  } finally {
    await publisher.close();
    await connection.close();
    await deleteBrokerObjects(amqpUrl, deps.topology.prefix);
    await dropDatabase(serverUrl, dbName);
  }
}

const infrastructure = await resolveInfrastructure({ allowTestcontainers: false });
console.log(`${linesPerChunk} lines per chunk, ${chunkCount} chunks, ${executions} executions`);
for (const [prefetch, batchSize] of grid)
  await run(infrastructure.databaseUrl, infrastructure.amqpUrl, prefetch, batchSize);
await infrastructure.stop();
