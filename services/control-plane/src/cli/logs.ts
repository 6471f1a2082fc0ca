import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { LogStreamFrameSchema, type LogStreamFrame } from '@meridian/contracts/api/execution-log';

/**
 * Follows an execution's log in a terminal:
 *   npm run logs -- <executionId> [--token T] [--url http://127.0.0.1:8080] [--after N]
 * Program output goes to stdout and stderr as the program wrote it; gap markers and the final
 * status go to stderr. Reconnects with `after` = the last seq seen when the connection drops
 * before the end. Exit codes: 0 after the end frame, 1 when the server refuses (the HTTP status is
 * printed) or cannot be reached, 2 for bad arguments.
 */
const USAGE = 'usage: npm run logs -- <executionId> [--token T] [--url http://127.0.0.1:8080] [--after N]';
const MAX_ATTEMPTS_WITHOUT_PROGRESS = 10;

function fail(message: string, code = 2): never {
  console.error(code === 2 ? `${message}\n${USAGE}` : message);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      token: { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      after: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const executionId = positionals[0];
if (!executionId || positionals.length > 1) fail('give exactly one execution id');
const token = values.token ?? process.env['MERIDIAN_TOKEN'];
if (!token) fail('a token is needed: --token T or MERIDIAN_TOKEN (npm run token -- --org ORG --sub USER)');
if (!/^\d+$/.test(values.after)) fail('--after must be a whole number ≥ 0');
let baseUrl: URL;
try {
  baseUrl = new URL(values.url);
} catch {
  fail(`--url is not a URL: ${values.url}`);
}

let lastSeq = Number(values.after);
let stopping = false;
let current: WebSocket | undefined;
process.on('SIGINT', () => {
  stopping = true;
  current?.close(1000, 'client stopped');
  process.exit(130);
});

type Outcome =
  { kind: 'ended' } | { kind: 'refused'; status: number; detail: string } | { kind: 'dropped'; why: string };

function streamUrl(): URL {
  const url = new URL(
    `/api/v1/tasks/executions/${encodeURIComponent(executionId ?? '')}/logs/stream`,
    baseUrl,
  );
  url.protocol = baseUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('after', String(lastSeq));
  return url;
}

function print(frame: LogStreamFrame): void {
  switch (frame.type) {
    case 'line':
      (frame.stream === 'stderr' ? process.stderr : process.stdout).write(`${frame.text}\n`);
      lastSeq = frame.seq;
      return;
    case 'gap': {
      const lines = frame.beforeSeq - frame.afterSeq - 1;
      process.stderr.write(`[… ${lines} line(s) missing: ${frame.bytes} bytes, ${frame.reason} …]\n`);
      lastSeq = frame.beforeSeq - 1;
      return;
    }
    case 'end': {
      const exit = frame.exitCode === null ? '' : `, exit code ${frame.exitCode}`;
      const truncated = frame.truncatedBytes > 0 ? `, ${frame.truncatedBytes} bytes not kept` : '';
      process.stderr.write(`[execution ${frame.status}${exit}${truncated}]\n`);
      return;
    }
  }
}

/** One connection: resolves with how it ended. */
function follow(): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(streamUrl(), { headers: { Authorization: `Bearer ${token}` } });
    current = socket;
    let ended = false;
    socket.on('message', (data: Buffer) => {
      const frame = LogStreamFrameSchema.safeParse(JSON.parse(data.toString('utf8')));
      if (!frame.success) return;
      if (frame.data.type === 'end') ended = true;
      print(frame.data);
    });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        let detail = body;
        try {
          const problem = JSON.parse(body) as { title?: string; detail?: string };
          detail = [problem.title, problem.detail].filter(Boolean).join(': ');
        } catch {
          // not problem+json: print the body as it is
        }
        resolve({ kind: 'refused', status: response.statusCode ?? 0, detail });
      });
    });
    socket.on('error', (error) => resolve({ kind: 'dropped', why: error.message }));
    socket.on('close', (code: number, reason: Buffer) => {
      if (ended) resolve({ kind: 'ended' });
      else
        resolve({
          kind: 'dropped',
          why: `closed with ${code}${reason.length ? ` (${reason.toString()})` : ''}`,
        });
    });
  });
}

/** Follows until the end frame; reconnects after a drop, gives up on a refusal or after many failures. */
async function run(): Promise<number> {
  let failures = 0;
  for (;;) {
    const before = lastSeq;
    const outcome = await follow();
    if (outcome.kind === 'ended' || stopping) return 0;
    if (outcome.kind === 'refused' && outcome.status < 500) {
      console.error(`error: HTTP ${outcome.status}${outcome.detail ? ` ${outcome.detail}` : ''}`);
      return 1;
    }
    failures = lastSeq > before ? 1 : failures + 1;
    const why = outcome.kind === 'refused' ? `HTTP ${outcome.status} ${outcome.detail}` : outcome.why;
    if (failures > MAX_ATTEMPTS_WITHOUT_PROGRESS) {
      console.error(`error: giving up: ${why}`);
      return 1;
    }
    const delayMs = Math.min(5000, 250 * 2 ** (failures - 1));
    process.stderr.write(`[connection lost: ${why}; reconnecting after seq ${lastSeq} in ${delayMs} ms]\n`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

process.exitCode = await run();
