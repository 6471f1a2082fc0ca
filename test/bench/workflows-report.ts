import type { MachineInfo } from './machine.js';
import type { BatchShapeResult, Latencies } from './workflows-batches.js';
import { BATCH_LIMIT, FAN_OUT_ROOT_DELAY_MS } from './workflows-batches.js';
import type { WorkflowsBenchResults } from './workflows-bench.js';
import type { RecurringResult } from './workflows-recurring.js';

/**
 * The workflows section of docs/performance.md lies between these two markers; the bench replaces
 * it alone. The analysis written by hand after it (outside the markers) stays.
 */
const BEGIN = '<!-- workflows-bench: begin (written by npm run bench, test/bench/workflows-report.ts) -->';
const END = '<!-- workflows-bench: end -->';

/** The issue's aim for the scheduling overhead per step (p50 and p99). */
const OVERHEAD_AIM_MS = 20;

const ms = (l: Latencies) => `${l.p50} / ${l.p99} / ${l.max} ms`;
const verdict = (l: Latencies) =>
  l.p99 < OVERHEAD_AIM_MS ? 'met' : l.p50 < OVERHEAD_AIM_MS ? 'p50 met, **p99 not met**' : '**not met**';

function shapeRow(name: string, r: BatchShapeResult): string {
  const statuses = Object.entries(r.batchStatuses)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return `| ${name} | ${r.tasks} in ${r.batches} batches (${statuses}) | ${r.createMs} ms | ${r.totalSeconds} s${r.afterRootSeconds === undefined ? '' : ` (${r.afterRootSeconds} s after the root completed)`} | ${ms(r.overhead)} | ${ms(r.toRelease)} | ${ms(r.toDispatch)} | ${verdict(r.overhead)} |`;
}

function recurringRow(r: RecurringResult): string {
  return `| ${r.recurringTasks} enabled (+ ${r.disabled} disabled) | ${r.replicas} | ${r.createSeconds} s | ${r.created} created / ${r.skipped} skipped; ${r.tasks} tasks; disabled fired ${r.disabledFired} | ${r.fireSeconds} s | ${r.lag.p50} / ${r.lag.p99} ms | ${r.occurrencesPerSecond}/s |`;
}

export function renderWorkflowsSection(r: WorkflowsBenchResults, m: MachineInfo, date: Date): string {
  const o = r.options;
  return `${BEGIN}
## Workflows: batches and recurring tasks

Measured by \`npm run bench\` (\`BENCH_ONLY=workflows\` runs this part alone; test/bench/workflows-*.ts)
on ${date.toISOString().slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os};
Node.js ${m.node}; PostgreSQL ${m.postgres}; RabbitMQ ${m.rabbitmq}; all local, default settings,
one control-plane process (more only where the table says so) and one agent with ${r.capacity} slots.
The scenario took ${r.totalSeconds} s. The 1-minute load average was ${r.loadAverage[0]} before it and
${r.loadAverage[1]} after; on ${m.cores} cores, a load above ${m.cores} means other work competed for the CPU.

Method:

- \`Echo\` tasks (no delay) in batches created over HTTP (\`POST /tasks/batch\`). A batch holds at
  most ${BATCH_LIMIT} tasks, so a larger shape is several batches created together:
  - **fan-out**: one root and ${o.fanOut - 1} dependents; the first batch holds the root and
    ${Math.min(o.fanOut, BATCH_LIMIT) - 1} of them, the other batches' ${Math.max(0, o.fanOut - BATCH_LIMIT)} depend on the root by its task id (a dependency outside the batch counts
    like one in it). The root waits ${FAN_OUT_ROOT_DELAY_MS} ms (\`delayMs\`) so that the second
    batch exists before it completes; that wait is in "creation → last Completed".
  - **chains**: ${o.chains} chains ${o.depth} deep (${Math.min(o.chains, Math.floor(BATCH_LIMIT / o.depth))} per batch): each step depends on the one before.
    One 1,000-deep chain does not fit in a batch (${BATCH_LIMIT} tasks at most).
- The agent has ${r.capacity} slots (\`BENCH_CAPACITY\`, also the control plane's
  \`MAX_CONCURRENT_TASKS_PER_NODE\`): with fewer slots than released steps, "release → dispatch"
  also holds the wait for a free slot, which is not scheduling overhead.
- **Creation → last Completed**: the first batch's \`created_at\` to the last step's \`TaskCompleted\`
  event. **Overhead per step**: for each step with dependencies, its dependencies' last
  \`TaskCompleted\` event to its own \`TaskDispatched\` event, both as recorded by PostgreSQL
  (\`recorded_at\`, \`clock_timestamp()\`); split into completion → release (the step's
  \`TaskQueued\`, written by the batch worker) and release → dispatch (the dispatcher). Aim: below
  ${OVERHEAD_AIM_MS} ms.
- **Recurring**: ${o.recurring} enabled recurring tasks (\`Echo\`, UTC) with the same daily schedule
  \`M H * * *\`, created over HTTP before that minute; the figure is the minute's start to the last
  occurrence's task created (its \`TaskCreated\` event), with the default \`POLL_INTERVAL_MS\` (1 s).
  The tasks fired are dispatched and run by the agent meanwhile. ${r.recurring.some((x) => x.replicas > 1) ? 'Extra control planes (same database and broker) were started after the creation, before the minute.' : ''}
- Knobs: \`BENCH_WF_FAN_OUT\` (${o.fanOut}), \`BENCH_WF_CHAINS\` (${o.chains}), \`BENCH_WF_DEPTH\` (${o.depth}),
  \`BENCH_WF_RECURRING\` (${o.recurring}), \`BENCH_WF_REPLICAS\` (${o.replicas.join(',')}: one recurring round per entry).

| Batch shape | Tasks | Creation (HTTP) | Creation → last Completed | Overhead per step P50 / P99 / max | Completion → release | Release → dispatch | Aim (< ${OVERHEAD_AIM_MS} ms) |
|---|---|---|---|---|---|---|---|
${shapeRow('Fan-out', r.fanOut)}
${shapeRow('Chains', r.chains)}

| Recurring tasks | Control planes | Creation (HTTP) | Occurrences of the minute | Minute → last task created | Lag P50 / P99 | Rate |
|---|---|---|---|---|---|---|
${r.recurring.map(recurringRow).join('\n')}
${END}`;
}

/** `previous` with the section replaced, or appended when it has none yet. */
export function withWorkflowsSection(previous: string, section: string): string {
  const begin = previous.indexOf(BEGIN);
  const end = previous.indexOf(END);
  if (begin >= 0 && end > begin) {
    return `${previous.slice(0, begin)}${section}${previous.slice(end + END.length)}`;
  }
  return `${previous.trimEnd()}\n\n${section}\n`;
}
