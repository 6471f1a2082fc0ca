import type { Logger } from 'pino';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { failureOfInvalidEndReport, salvageEndReport } from '@meridian/contracts/messages/invalid-end-report';
import type { RecordResult } from '../app/record-agent-messages.js';

/**
 * An end report (TaskCompleted, TaskFailed, TaskCancelled) that is invalid even after clamping
 * still says that its execution ended: when its type, ids and sequence can be read, it is applied
 * at once as a non-retryable `TaskFailed` naming the reason, through the same path as any report
 * (same messageId, so the node, sequence and duplicate checks hold), instead of leaving the
 * execution to its deadline. The caller dead-letters the original all the same.
 */
export async function recordInvalidEndReport(
  body: Buffer,
  reason: string,
  apply: (message: AgentMessage) => Promise<RecordResult>,
  logger: Logger,
  now: Date = new Date(),
): Promise<void> {
  const salvaged = salvageEndReport(body);
  if (!salvaged) return;
  const result = await apply(failureOfInvalidEndReport(salvaged, reason, now));
  logger.warn(
    {
      messageId: salvaged.messageId,
      type: salvaged.type,
      executionId: salvaged.executionId,
      nodeId: salvaged.nodeId,
      outcome: result.outcome,
    },
    'invalid end report recorded as a failure of its execution',
  );
}
