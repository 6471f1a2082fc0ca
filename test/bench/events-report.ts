import { readFileSync, writeFileSync } from 'node:fs';

export interface ScenarioResult {
  name: string;
  path: string;
  count: number;
  failures: number;
  errors: string[];
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface EventBenchResults {
  rate: number;
  seconds: number;
  orgEvents: number;
  taskEvents: number;
  seedSeconds: number;
  eventsPerTransaction: number;
  machine: string;
  /** 1-minute load average before and after the measured queries (other work on the machine shows here). */
  loadAverage: [number, number];
  scenarios: ScenarioResult[];
}

const OUTPUT = new URL('../../docs/performance.md', import.meta.url);
const START = '<!-- events-bench:start (written by test/bench/events-bench.ts) -->';
const END = '<!-- events-bench:end -->';
const ms = (value: number) => `${value} ms`;

function renderSection(r: EventBenchResults): string {
  const rows = r.scenarios.map(
    (s) =>
      `| ${s.name} | \`${s.path}\` | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.count}, ${s.failures} failed |`,
  );
  const worstP95 = Math.max(...r.scenarios.map((s) => s.p95));
  return `${START}
## Event queries

Measured by \`npm run bench\` (or alone: \`npx tsx test/bench/events-bench.ts\`) on
${new Date().toISOString().slice(0, 10)}; ${r.machine}; 1-minute load average ${r.loadAverage[0]} before
the queries and ${r.loadAverage[1]} after.

**Method.** A database of its own, seeded in ${r.seedSeconds} s (\`generate_series\`, then \`VACUUM
ANALYZE\` as autovacuum would do): an organisation with ${r.orgEvents.toLocaleString('en')} events over 30 days,
${r.taskEvents.toLocaleString('en')} of them on one task spread over the whole history, the others eight per task
(TaskTriggered and TaskRescheduled together 0.5 % of them), plus 200,000 events of a neighbouring
organisation in the same table. Transaction ids are made up, ${r.eventsPerTransaction} consecutive events per
transaction. One real control-plane process (\`tsx src/main.ts\`, log level \`warn\`) answers; the load
generator, on the same machine, sends each query in an open loop at ${r.rate} requests/s for ${r.seconds} s
(after 20 warm-up requests) and checks each answer (200, 100 items). Latency is from sending the
request to the whole JSON body; the deep pages use a cursor pointing 90 % into the listing.

| Query | Request | p50 | p95 | p99 | max | requests |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Target (seed 000): p95 < 1 s at 10,000 events; aim < 50 ms. Worst p95 here: ${ms(worstP95)}.
${END}`;
}

/** Writes the section into docs/performance.md, replacing the previous one or appended at the end. */
export function writeEventsSection(results: EventBenchResults): void {
  const document = readFileSync(OUTPUT, 'utf8');
  const section = renderSection(results);
  const start = document.indexOf(START);
  const end = document.indexOf(END);
  const updated =
    start >= 0 && end > start
      ? `${document.slice(0, start)}${section}${document.slice(end + END.length)}`
      : `${document.trimEnd()}\n\n${section}\n`;
  writeFileSync(OUTPUT, updated);
}
