import { randomUUID } from 'node:crypto';
import { topology } from '@meridian/contracts/topology';

/**
 * Messages a buggy or hostile agent could publish on the agent-events and logs exchanges: bad
 * JSON, wrong schemas, unknown types, 10 MB bodies, replayed message ids, wrong or invalid node
 * ids, deep nesting, NUL bytes, integers past 2^31 and over-long fields. None of them may change a
 * real task, stop the consumers or grow the control plane's memory without bound.
 */
export interface HostileTarget {
  prefix: string;
  /** The real agent's node and organisation. */
  nodeId: string;
  orgId: string;
  /** Executions of real tasks seen so far. */
  executions: { taskId: string; executionId: string }[];
  /** Reports of real tasks already applied (their ids get replayed with another outcome). */
  appliedReports: { messageId: string; taskId: string; executionId: string }[];
}

export interface HostileMessage {
  kind: string;
  exchange: string;
  routingKey: string;
  body: Buffer;
  messageId?: string;
  type?: string;
  headers?: Record<string, unknown>;
}

/** Indices of the few messages with a 10 MB body. */
export const HUGE_BODY_INDICES = new Set([1_000, 3_000, 5_000, 7_000, 9_000]);
const HUGE = 10 * 1024 * 1024;
const DEEP = 10_000;

export function hostileMessage(index: number, target: HostileTarget): HostileMessage {
  const names = topology(target.prefix);
  const toEvents = (kind: string, type: string, body: unknown, extra: Partial<HostileMessage> = {}) => ({
    kind,
    exchange: names.agentEventsExchange,
    routingKey: type.slice(0, 200),
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    type: type.slice(0, 200),
    ...extra,
  });
  const toLogs = (
    kind: string,
    body: unknown,
    nodeId = target.nodeId,
    extra: Partial<HostileMessage> = {},
  ) => ({
    kind,
    exchange: names.logsExchange,
    routingKey: names.logKey(nodeId.slice(0, 200)),
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    type: 'LogChunk',
    ...extra,
  });
  const real = pick(target.executions, index) ?? { taskId: randomUUID(), executionId: randomUUID() };
  const made = { taskId: randomUUID(), executionId: randomUUID() };
  const even = index % 2 === 0;

  if (HUGE_BODY_INDICES.has(index)) {
    const text = 'x'.repeat(HUGE);
    return even
      ? toLogs('10 MB body', envelope('LogChunk', target.nodeId, chunk(real, [line(1, text)])))
      : toEvents(
          '10 MB body',
          'TaskCompleted',
          envelope('TaskCompleted', target.nodeId, {
            ...made,
            sequence: 2,
            exitCode: 0,
            durationMs: 1,
            output: { stdout: text, stderr: '', truncatedBytes: 0 },
          }),
        );
  }

  const bucket = index % 100;
  if (bucket < 20) {
    const garbage = [
      '{ this is not json',
      '',
      'null',
      '[1,2',
      '\u0000\u0001\u0002',
      '{"type":"TaskCompleted"',
    ][index % 6]!;
    return even ? toEvents('bad JSON', 'TaskCompleted', garbage) : toLogs('bad JSON', garbage);
  }
  if (bucket < 40) {
    const wrong = [
      { messageId: randomUUID(), type: 'TaskCompleted' },
      envelope('TaskCompleted', target.nodeId, { ...made, sequence: 'two', exitCode: '0' }),
      envelope('TaskFailed', target.nodeId, { taskId: 'not-a-uuid', executionId: 7 }),
      { ...envelope('TaskStarted', target.nodeId, made), occurredAt: 'yesterday', schemaVersion: -1 },
      envelope('LogChunk', target.nodeId, { ...real, lines: [] }),
      envelope('LogChunk', target.nodeId, {
        ...real,
        lines: [{ seq: 0, stream: 'stdin', ts: 'now', text: 1 }],
      }),
      [1, 2, 3],
    ][index % 7];
    return even ? toEvents('wrong schema', 'TaskCompleted', wrong) : toLogs('wrong schema', wrong);
  }
  if (bucket < 55) {
    const type = index % 50 === 40 ? 'T'.repeat(10_000) : `TaskExploded${index % 13}`;
    const message = envelope(type, target.nodeId, made);
    return even ? toEvents('unknown type', type, message) : toLogs('unknown type', message);
  }
  if (bucket < 65) {
    const applied = pick(target.appliedReports, index);
    if (applied) {
      // The id of a report already applied, claiming another outcome: it must change nothing.
      const message = envelope(
        'TaskFailed',
        target.nodeId,
        {
          taskId: applied.taskId,
          executionId: applied.executionId,
          sequence: 99,
          error: 'replayed',
          exitCode: 9,
          retryable: false,
        },
        applied.messageId,
      );
      return toEvents('replayed id', 'TaskFailed', message, { messageId: applied.messageId });
    }
    const messageId = `00000000-0000-4000-8000-${String(index % 7).padStart(12, '0')}`;
    return toEvents(
      'replayed id',
      'TaskProgress',
      envelope('TaskProgress', target.nodeId, { ...made, sequence: 1, percent: 50 }, messageId),
      { messageId },
    );
  }
  if (bucket < 75) {
    const nodeId = ['../../etc/passwd', 'evil node', `-${index}`, 'n'.repeat(5_000), `impostor-${index % 5}`][
      index % 5
    ]!;
    if (index % 3 === 0) {
      return toEvents(
        'wrong node id',
        'AgentHeartbeat',
        heartbeat(nodeId, nodeId.startsWith('impostor') ? 'hostile-org' : target.orgId),
      );
    }
    if (index % 3 === 1) {
      return toEvents(
        'wrong node id',
        'TaskFailed',
        envelope('TaskFailed', nodeId, {
          ...real,
          sequence: 50,
          error: 'not yours',
          exitCode: 1,
          retryable: false,
        }),
      );
    }
    return toLogs('wrong node id', envelope('LogChunk', nodeId, chunk(real, [line(1, 'not yours')])), nodeId);
  }
  if (bucket < 80) {
    return even
      ? toEvents(
          'deep nesting',
          'TaskCompleted',
          nested('TaskCompleted', target.nodeId, made, 'result', objects(DEEP)),
        )
      : toLogs('deep nesting', nested('LogChunk', target.nodeId, real, 'lines', arrays(DEEP)));
  }
  if (bucket < 88) {
    const text = `before\u0000after ${index}`;
    if (index % 3 === 0) {
      return toLogs('NUL bytes', envelope('LogChunk', target.nodeId, chunk(made, [line(1, text)])));
    }
    return toEvents(
      'NUL bytes',
      'TaskFailed',
      envelope('TaskFailed', index % 3 === 1 ? `wrong-${index}` : target.nodeId, {
        ...(index % 3 === 1 ? real : made),
        sequence: 3,
        error: text,
        exitCode: 1,
        retryable: false,
      }),
    );
  }
  if (bucket < 96) {
    const big = 2 ** 31 + index;
    if (index % 3 === 0) {
      return toLogs(
        'integers past 2^31',
        envelope('LogChunk', target.nodeId, chunk(made, [line(big, 'big seq')])),
      );
    }
    return toEvents(
      'integers past 2^31',
      'TaskCompleted',
      envelope('TaskCompleted', index % 3 === 1 ? `wrong-${index}` : target.nodeId, {
        ...(index % 3 === 1 ? real : made),
        sequence: big,
        exitCode: big,
        durationMs: 2 ** 53,
      }),
    );
  }
  const long = 'L'.repeat(12_000);
  switch (index % 4) {
    case 0:
      return toEvents(
        'over-long fields',
        'TaskFailed',
        envelope('TaskFailed', target.nodeId, {
          ...made,
          sequence: 3,
          error: long,
          exitCode: 1,
          retryable: false,
        }),
      );
    case 1:
      return toEvents('over-long fields', 'TaskStarted', {
        ...envelope('TaskStarted', target.nodeId, { ...made, sequence: 1 }),
        correlationId: 'c'.repeat(100_000),
      });
    case 2:
      return toEvents(
        'over-long fields',
        'TaskProgress',
        envelope('TaskProgress', target.nodeId, { ...made, sequence: 1, percent: 5 }),
        { headers: { 'x-padding': 'h'.repeat(9 * 1024) } },
      );
    default:
      return toLogs(
        'over-long fields',
        envelope('LogChunk', target.nodeId, chunk(made, [line(1, 'y'.repeat(200_000))])),
      );
  }
}

function envelope(type: string, nodeId: string, payload: unknown, messageId: string = randomUUID()) {
  return {
    messageId,
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'hostile',
    nodeId,
    payload,
  };
}

function heartbeat(nodeId: string, orgId: string) {
  return envelope('AgentHeartbeat', nodeId, {
    nodeId,
    orgId,
    agentId: 'hostile',
    agentVersion: '6.6.6',
    protocolVersion: 1,
    capacity: 10,
    runningExecutions: [],
    labels: { ['k'.repeat(1000)]: 'v'.repeat(100_000) },
  });
}

function chunk(ids: { taskId: string; executionId: string }, lines: unknown[]) {
  return { ...ids, droppedBytes: 0, lines };
}

function line(seq: number, text: string) {
  return { seq, stream: 'stdout', ts: new Date().toISOString(), text };
}

function objects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function arrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** An envelope whose payload's `field` is the JSON text `value` (built as text: no deep objects here). */
function nested(
  type: string,
  nodeId: string,
  ids: { taskId: string; executionId: string },
  field: string,
  value: string,
): string {
  const body = JSON.stringify(
    envelope(type, nodeId, { ...ids, sequence: 2, exitCode: 0, durationMs: 1, [field]: 0 }),
  );
  return body.replace(`"${field}":0`, `"${field}":${value}`);
}

function pick<T>(items: T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}
