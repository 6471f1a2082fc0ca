import type { MachineInfo } from './machine.js';
import { BULK_ITEMS, type PhaseLatency, type RunsBenchResults } from './runs-bench.js';
import { round } from './stats.js';

/**
 * The triggers-and-reschedules section of docs/performance.md lies between these two markers; the
 * bench replaces it alone, so that the other sections (and whoever writes them) are left as they are.
 */
const BEGIN = '<!-- runs-bench: begin (written by npm run bench, test/bench/runs-report.ts) -->';
const END = '<!-- runs-bench: end -->';

const ms = (value: number) => `${round(value, 1)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

function row(name: string, p: PhaseLatency, target: string, met: boolean): string {
  return `| ${name} | ${p.rate}/s × ${p.durationMs / 1000} s | ${ms(p.p50)} | ${ms(p.p95)} | ${ms(p.p99)} | ${ms(p.max)} | ${p.count} / ${p.failures} | ${target}: ${verdict(met)} |`;
}

export function renderRunsSection(r: RunsBenchResults, m: MachineInfo, date: Date): string {
  const o = r.options;
  const singleRows = r.single.flatMap((s) => [
    row('`POST /tasks/{id}/trigger`', s.trigger, '< 500 ms', s.trigger.p95 < 500 && s.trigger.failures === 0),
    row(
      '`PUT /tasks/{id}/reschedule` delayed',
      s.rescheduleDelayed,
      '< 300 ms',
      s.rescheduleDelayed.p95 < 300 && s.rescheduleDelayed.failures === 0,
    ),
    row(
      '`PUT /tasks/{id}/reschedule` cron',
      s.rescheduleCron,
      '< 300 ms',
      s.rescheduleCron.p95 < 300 && s.rescheduleCron.failures === 0,
    ),
  ]);
  const bulkMet = (p: PhaseLatency) => p.p95 < 2000 && p.failures === 0;
  return `${BEGIN}
## Triggers and reschedules

Measured by \`npm run bench\` (\`BENCH_ONLY=runs\` runs this part alone; test/bench/runs-bench.ts)
on ${date.toISOString().slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os};
Node.js ${m.node}; PostgreSQL ${m.postgres}; RabbitMQ ${m.rabbitmq}; all local, default settings,
one control-plane process and one agent (as above). The scenario took ${r.totalSeconds} s. The 1-minute
load average was ${r.loadAverage[0]} before it and ${r.loadAverage[1]} after; on ${m.cores} cores, a load above ${m.cores}
means other work on the machine competed for the CPU.

Method:

- A pool of ${o.pool} \`Echo\` tasks, created and run to Completed first. Every call acts on
  Completed tasks of the pool: each rate of the single-task phases has a part of the pool of its
  own and calls each of its tasks once per phase; a bulk call takes the next ${BULK_ITEMS} tasks of
  the pool, round its end. Between phases the bench waits until the whole pool is Completed again.
  The runs the calls start are dispatched to the agent and completed while the phase goes on, so
  each trigger also costs the control plane (and PostgreSQL, RabbitMQ, the agent) a whole run.
- Open loop: requests fire on schedule whether or not earlier ones returned; latency from sending
  the request to the full response; keep-alive connections; no \`Idempotency-Key\`.
- **Trigger**: \`POST /tasks/{id}/trigger\` with \`{}\` on a Completed task: a new run at once (202;
  not \`queue: true\`). **Reschedule**: \`PUT /tasks/{id}/reschedule\` with
  \`{"strategy":"delayed","delay":"2s"}\` on a Completed task (a new run, due 2 s later), and with
  \`{"strategy":"cron","expression":"0 3 * * *","timezone":"Europe/London"}\` (the schedule is set,
  the status does not move, no run starts during the bench). **Bulk**: \`POST /tasks/bulk/trigger\`
  with ${BULK_ITEMS} tasks and \`PUT /tasks/bulk/reschedule\` with ${BULK_ITEMS} items \`delayed 2s\`,
  \`allOrNothing\` false; every item must be applied (a call with a failed item counts as failed).
- Rate limits: every call counts against them as in production (its own short transaction on the
  counter rows, before the work). The per-user, per-org and system limits are raised for the bench
  process (\`TRIGGER_LIMIT_PER_USER_PER_HOUR\`, \`TRIGGER_LIMIT_PER_ORG_PER_HOUR\`,
  \`TRIGGER_LIMIT_SYSTEM_PER_MINUTE\` = ${r.limits.TRIGGER_LIMIT_PER_USER_PER_HOUR}): at these rates the
  defaults would refuse calls within a minute. The per-task limit keeps its default (100/hour); no
  task gets more than a dozen calls.
- Knobs: \`BENCH_RUNS_RATES\` (${o.rates.join(',')}), \`BENCH_RUNS_SECONDS\` (${o.seconds}),
  \`BENCH_BULK_RATE\` (${o.bulkRate}), \`BENCH_BULK_SECONDS\` (${o.bulkSeconds}), \`BENCH_RUNS_POOL\` (at least ${o.pool}).

| Call | Rate × time | P50 | P95 | P99 | Max | Calls / failed | Target (seed, P95) |
|---|---|---|---|---|---|---|---|
${singleRows.join('\n')}
${row(`\`POST /tasks/bulk/trigger\`, ${BULK_ITEMS} tasks`, r.bulkTrigger, '< 2 s (aim < 200 ms)', bulkMet(r.bulkTrigger))}
${row(`\`PUT /tasks/bulk/reschedule\`, ${BULK_ITEMS} items`, r.bulkReschedule, '< 2 s (aim < 200 ms)', bulkMet(r.bulkReschedule))}

A bulk phase of ${o.bulkRate} call/s × ${BULK_ITEMS} items is ${o.bulkRate * BULK_ITEMS * 60} tasks/min (seed 000: 5,000+
tasks/min). With ${r.bulkTrigger.count} bulk calls per phase, P99 is the slowest call or next to it.
${END}`;
}

/** `previous` with the section replaced, or appended when it has none yet. */
export function withRunsSection(previous: string, section: string): string {
  const begin = previous.indexOf(BEGIN);
  const end = previous.indexOf(END);
  if (begin >= 0 && end > begin) {
    return `${previous.slice(0, begin)}${section}${previous.slice(end + END.length)}`;
  }
  return `${previous.trimEnd()}\n\n${section}\n`;
}
