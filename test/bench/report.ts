import type { MachineInfo } from './machine.js';
import { round } from './stats.js';

interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

export interface BenchResults {
  machine: MachineInfo;
  capacity: number;
  post: Latency & { rate: number; durationMs: number };
  dispatch: Latency & { rate: number; durationMs: number };
  throughput: {
    total: number;
    concurrency: number;
    createSeconds: number;
    totalSeconds: number;
    tasksPerSecond: number;
    statuses: Record<string, number>;
  };
  memory: Record<string, number>;
  consumer: { prefetch: number; batchSize: number };
  logs: { paced: LogBench; flood: LogBench };
}

interface LogBench {
  lines: number;
  ratePerSecond: number;
  received: number;
  gaps: number;
  closeCode: number;
  linesPerSecond: number;
  delayMs: { p50: number; p99: number; max: number };
}

const ms = (value: number) => `${round(value, 1)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

/** Everything after this line in docs/performance.md is written by hand and kept by the bench. */
export const ANALYSIS_MARKER =
  '<!-- Analysis below: written by hand, kept when npm run bench rewrites the figures above. -->';

/** The measured part of docs/performance.md, followed by the hand-written analysis kept from before. */
export function renderReport(r: BenchResults, previous = ''): string {
  const markerAt = previous.indexOf(ANALYSIS_MARKER);
  const analysis = markerAt >= 0 ? previous.slice(markerAt) : `${ANALYSIS_MARKER}\n`;
  return `${renderFigures(r)}\n${analysis}`;
}

function renderFigures(r: BenchResults): string {
  const m = r.machine;
  return `# Performance

Measured by \`npm run bench\` (test/bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.
Re-run it to refresh the figures in this section; it rewrites this file.

## Machine and versions

| | |
|---|---|
| CPU | ${m.cpu}, ${m.cores} cores |
| Memory | ${m.memoryGiB} GiB |
| OS | ${m.os} |
| Node.js | ${m.node} |
| PostgreSQL | ${m.postgres} (local, default settings) |
| RabbitMQ | ${m.rabbitmq} (local, default settings) |

Everything runs on this one machine: PostgreSQL, RabbitMQ, one control-plane process, one agent
process (capacity ${r.capacity}) and the load generator, which all share the same cores.

## Method

- The real processes, started as in production (\`tsx src/main.ts\`), log level \`warn\` for the
  control plane; tasks are \`Echo\` tasks (no process spawned) created with \`POST /api/v1/tasks\`
  by a client in the bench process, keep-alive connections.
- **POST latency**: an open loop (requests fire on schedule whether or not earlier ones returned)
  at ${r.post.rate} req/s for ${r.post.durationMs / 1000} s; latency from sending the request to
  the full response.
- **Dispatch latency**: an open loop at ${r.dispatch.rate} tasks/s for ${r.dispatch.durationMs / 1000}
  s; for each task, \`executions.started_at\` (the agent's clock when it started the work) minus
  \`tasks.created_at\` (the control plane's clock at creation); same machine, same clock.
- **Full lifecycle**: ${r.throughput.total} tasks POSTed with ${r.throughput.concurrency} requests in
  flight; time from the first POST until PostgreSQL shows every task Completed.
- **Logs**: a \`Command\` prints lines (paced by a small \`node\` loop, or \`seq\` as fast as it can); a
  WebSocket client connected before it starts records each line's delay from the agent reading it
  (the line's \`ts\`) to the client receiving it (same machine, same clock), and the line rate.
- **Memory**: peak RSS of each program (the Node process tsx starts), sampled every 200 ms across
  all phases.

## Results

| Figure | Measured | Target |
|---|---|---|
| POST /tasks at ${r.post.rate} req/s | p50 ${ms(r.post.p50)}, p99 ${ms(r.post.p99)} (max ${ms(r.post.max)}, ${r.post.count} requests, ${r.post.failures} failed) | p99 < 20 ms: ${verdict(r.post.p99 < 20)} |
| Dispatch, created → agent started, at ${r.dispatch.rate} tasks/s | p50 ${ms(r.dispatch.p50)}, p99 ${ms(r.dispatch.p99)} (max ${ms(r.dispatch.max)}, ${r.dispatch.count} tasks) | p99 < 50 ms: ${verdict(r.dispatch.p99 < 50)} |
| Full lifecycle, ${r.throughput.total} Echo tasks | **${r.throughput.tasksPerSecond} tasks/s** (${r.throughput.totalSeconds} s in all; creating them took ${r.throughput.createSeconds} s) | ≥ 1,000 tasks/s: ${verdict(r.throughput.tasksPerSecond >= 1000)} |
| Log lines, agent → WebSocket client, paced at ~${r.logs.paced.ratePerSecond}/s | delay p50 ${ms(r.logs.paced.delayMs.p50)}, p99 ${ms(r.logs.paced.delayMs.p99)} (max ${ms(r.logs.paced.delayMs.max)}); ${r.logs.paced.received} of ${r.logs.paced.lines} lines, ${r.logs.paced.gaps} gaps | |
| Log lines, as fast as printed | **${r.logs.flood.linesPerSecond} lines/s** received; ${r.logs.flood.received} of ${r.logs.flood.lines} lines, ${r.logs.flood.gaps} gap frames; delay p50 ${ms(r.logs.flood.delayMs.p50)}, p99 ${ms(r.logs.flood.delayMs.p99)} | |
| Consumer settings | prefetch ${r.consumer.prefetch}, batch ${r.consumer.batchSize} | |
| Control-plane RSS, peak | ${round(r.memory['controlPlane'] ?? Number.NaN, 0)} MiB | |
| Agent RSS, peak | ${round(r.memory['agent'] ?? Number.NaN, 0)} MiB | |

Final statuses of the lifecycle run: ${Object.entries(r.throughput.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ')}.
`;
}
