import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { ReportPublisher, UnroutableError, type MessageSender } from './report-publisher.js';

const ids = { taskId: randomUUID(), executionId: randomUUID() };
const fields = () => ({ messageId: randomUUID(), occurredAt: new Date(), correlationId: 'c', nodeId: 'n' });
const progress = (sequence: number): AgentMessage =>
  buildEnvelope('TaskProgress', 1, fields(), { ...ids, sequence, percent: sequence });
const completed = (sequence: number): AgentMessage =>
  buildEnvelope('TaskCompleted', 1, fields(), { ...ids, sequence, exitCode: 0, durationMs: 1 });
const heartbeat = (capacity: number): AgentMessage =>
  buildEnvelope('AgentHeartbeat', 1, fields(), {
    nodeId: 'n',
    orgId: 'o',
    agentId: 'a',
    agentVersion: '1',
    protocolVersion: 1,
    capacity,
    runningExecutions: [],
    labels: {},
  });

/** A broker stand-in: fails while `down`, records what it confirmed. */
class FakeSender implements MessageSender {
  down = false;
  unroutable = false;
  readonly confirmed: AgentMessage[] = [];
  send(message: AgentMessage): Promise<void> {
    if (this.down) return Promise.reject(new Error('broker down'));
    if (this.unroutable) return Promise.reject(new UnroutableError('no queue'));
    this.confirmed.push(message);
    return Promise.resolve();
  }
}

function setup(maxBuffered = 100) {
  const sender = new FakeSender();
  const publisher = new ReportPublisher({
    sender,
    logger: pino({ level: 'silent' }),
    maxBuffered,
    retryDelayMs: { min: 5, max: 20 },
  });
  return { sender, publisher };
}

const describeAll = (messages: AgentMessage[]) =>
  messages.map((m) => `${m.type}:${'sequence' in m.payload ? m.payload.sequence : m.payload.capacity}`);

describe('ReportPublisher', () => {
  it('resolves once the broker confirmed', async () => {
    const { sender, publisher } = setup();
    await publisher.publish(completed(0));
    expect(describeAll(sender.confirmed)).toEqual(['TaskCompleted:0']);
  });

  it('holds messages while the broker is down and sends them in order when it is back', async () => {
    const { sender, publisher } = setup();
    sender.down = true;
    const first = publisher.publish(progress(0));
    await expect.poll(() => publisher.backlogSize).toBe(1);
    const rest = [publisher.publish(progress(1)), publisher.publish(completed(2))];
    await expect.poll(() => publisher.backlogSize).toBe(3);
    sender.down = false;
    await Promise.all([first, ...rest]);
    expect(describeAll(sender.confirmed)).toEqual(['TaskProgress:0', 'TaskProgress:1', 'TaskCompleted:2']);
  });

  it('bounds what it holds by dropping the oldest progress, never a terminal report', async () => {
    const { sender, publisher } = setup(3);
    sender.down = true;
    const first = publisher.publish(completed(0));
    await expect.poll(() => publisher.backlogSize).toBe(1);
    const rest = [progress(1), progress(2), completed(3), progress(4), completed(5)].map((m) =>
      publisher.publish(m),
    );
    expect(publisher.backlogSize).toBe(3);
    sender.down = false;
    await Promise.all([first, ...rest]);
    expect(describeAll(sender.confirmed)).toEqual(['TaskCompleted:0', 'TaskCompleted:3', 'TaskCompleted:5']);
  });

  it('keeps only the latest heartbeat', async () => {
    const { sender, publisher } = setup();
    sender.down = true;
    const first = publisher.publish(heartbeat(1));
    await expect.poll(() => publisher.backlogSize).toBe(1);
    const rest = [heartbeat(2), heartbeat(3)].map((m) => publisher.publish(m));
    expect(publisher.backlogSize).toBe(1);
    sender.down = false;
    await Promise.all([first, ...rest]);
    expect(describeAll(sender.confirmed)).toEqual(['AgentHeartbeat:3']);
  });

  it('drops an unroutable heartbeat but retries an unroutable status report', async () => {
    const { sender, publisher } = setup();
    sender.unroutable = true;
    await publisher.publish(heartbeat(1));
    const report = publisher.publish(completed(0));
    await expect.poll(() => publisher.backlogSize).toBe(1);
    sender.unroutable = false;
    await report;
    expect(describeAll(sender.confirmed)).toEqual(['TaskCompleted:0']);
  });

  it('flushes, then rejects what it still holds once closed', async () => {
    const { sender, publisher } = setup();
    await publisher.publish(progress(0));
    expect(await publisher.flush(100)).toBe(true);
    sender.down = true;
    const held = publisher.publish(completed(1));
    expect(await publisher.flush(30)).toBe(false);
    publisher.close();
    await expect(held).rejects.toThrow('closed');
    await expect(publisher.publish(completed(2))).rejects.toThrow('closed');
  });

  it('refuses an invalid message', async () => {
    const { publisher } = setup();
    const invalid = buildEnvelope('TaskProgress', 1, fields(), { ...ids, sequence: -1, percent: 500 });
    await expect(publisher.publish(invalid as AgentMessage)).rejects.toThrow('invalid');
  });
});
