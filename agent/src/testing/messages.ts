import { randomUUID } from 'node:crypto';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { LogChunkMessage } from '../logs/execution-log.js';

/** Test helpers: agent messages and log chunks of one execution, as the agent would build them. */
export function messagesOf(ids = { taskId: randomUUID(), executionId: randomUUID() }) {
  const fields = () => ({ messageId: randomUUID(), occurredAt: new Date(), correlationId: 'c', nodeId: 'n' });
  return {
    ids,
    progress: (sequence: number): AgentMessage =>
      buildEnvelope('TaskProgress', 1, fields(), { ...ids, sequence, percent: sequence }),
    completed: (sequence: number): AgentMessage =>
      buildEnvelope('TaskCompleted', 1, fields(), { ...ids, sequence, exitCode: 0, durationMs: 1 }),
    chunk: (firstSeq: number, count = 1, text = 'line'): LogChunkMessage =>
      buildEnvelope('LogChunk', 1, fields(), {
        ...ids,
        droppedBytes: 0,
        lines: Array.from({ length: count }, (_, index) => ({
          seq: firstSeq + index,
          stream: 'stdout' as const,
          ts: new Date().toISOString(),
          text,
        })),
      }),
    heartbeat: (): AgentMessage =>
      buildEnvelope('AgentHeartbeat', 1, fields(), {
        nodeId: 'n',
        orgId: 'o',
        agentId: 'a',
        agentVersion: '1',
        protocolVersion: 1,
        capacity: 1,
        runningExecutions: [],
        labels: {},
      }),
  };
}

/** `Type:sequence` for reports, `LogChunk:firstSeq-lastSeq(+droppedBytes)` for chunks. */
export function describeMessage(message: AgentMessage | LogChunkMessage): string {
  if (message.type === 'LogChunk') {
    const { lines, droppedBytes } = message.payload;
    const dropped = droppedBytes > 0 ? `+${droppedBytes}` : '';
    return `LogChunk:${lines[0]?.seq}-${lines.at(-1)?.seq}${dropped}`;
  }
  const { payload } = message;
  return 'sequence' in payload ? `${message.type}:${payload.sequence}` : message.type;
}
