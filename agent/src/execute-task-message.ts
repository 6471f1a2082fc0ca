import type { z } from 'zod';
import type { EnvelopeOf } from '@meridian/contracts/messages/envelope';
import type { ExecuteTask } from '@meridian/contracts/messages/execute-task';
import type { JournalledTask } from './state/execution-journal.js';

/** What the runner reads off an ExecuteTask: its journal entry, its deadline, its payload's issues. */
export type ExecuteTaskMessage = EnvelopeOf<'ExecuteTask', ExecuteTask>;

export function journalledTask(command: ExecuteTaskMessage, deadline: Date): JournalledTask {
  const { taskId, executionId, type, attempt } = command.payload;
  return {
    taskId,
    executionId,
    correlationId: command.correlationId,
    type,
    attempt,
    deadline: deadline.toISOString(),
  };
}

/** The earlier of the command's absolute deadline and its timeout counted from arrival. */
export function effectiveDeadline(
  task: Pick<ExecuteTask, 'deadline' | 'timeoutSeconds'>,
  receivedAt: Date,
): Date {
  return new Date(Math.min(Date.parse(task.deadline), receivedAt.getTime() + task.timeoutSeconds * 1000));
}

/** `payload.command: expected array` style, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${['payload', ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
}
