import { describe, expect, it } from 'vitest';
import { LOG_LINES_STORED } from '@meridian/contracts/messages/log-lines-stored';
import { isCommandType, reportsForReturnedCommands } from './returned-commands.js';

describe('returned messages', () => {
  it.each([
    ['ExecuteTask', true],
    ['CancelTask', true],
    [LOG_LINES_STORED, false],
    [undefined, false],
  ])('%s is a command whose return matters: %s', (type, expected) => {
    expect(isCommandType(type)).toBe(expected);
  });

  it('turns a returned ExecuteTask into a retryable failure and a returned LogLinesStored into nothing', () => {
    const payload = {
      taskId: '5f0c6a43-8f8e-4f3f-9a39-3f1a9d3b8f10',
      executionId: 'b2b7c1de-51a5-4b7e-8d89-9e0f2b1f6d22',
    };
    const reports = reportsForReturnedCommands(
      [
        { messageId: 'm1', type: 'ExecuteTask', routingKey: 'node.n1.work', body: { nodeId: 'n1', payload } },
        {
          messageId: 'm2',
          type: LOG_LINES_STORED,
          routingKey: `execution.${payload.executionId}`,
          body: { nodeId: 'n1', payload: { executionId: payload.executionId } },
        },
      ],
      new Date('2026-06-01T12:00:00.000Z'),
    );
    expect(reports.map((r) => [r.messageId, r.type])).toEqual([['m1', 'TaskFailed']]);
  });
});
