import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { relayOutboxBatch, type ReturnedCommand } from './outbox-relay.js';
import {
  boundQueue,
  cleanup,
  confirmingPublisher,
  connection,
  deps,
  enqueue,
  makeDue,
  options,
  receive,
  row,
  stored,
  useRelayFixture,
} from './outbox-relay.fixture.js';

useRelayFixture();

describe('outbox relay with a real broker', () => {
  it('publishes committed rows with confirms, keeps commands as sent, deletes live-log notifications, reports returns', async () => {
    const queue = await boundQueue('bound');
    const command = row('ExecuteTask', 'bound');
    const notification = row('LogLinesStored', 'bound');
    const unroutable = row('ExecuteTask', 'nobody-listens');
    await enqueue(command, notification, unroutable);
    const returned = new Map<string, ReturnedCommand>();
    const publisher = confirmingPublisher(returned);
    try {
      const result = await relayOutboxBatch(deps.dataSource, publisher, returned, options());
      expect(result).toMatchObject({ published: 3, failed: 0 });
      expect(result.returned.map((r) => r.messageId)).toEqual([unroutable.messageId]);
      expect(await relayOutboxBatch(deps.dataSource, publisher, returned, options())).toEqual({
        published: 0,
        failed: 0,
        returned: [],
      });
    } finally {
      await publisher.close();
    }
    expect(await stored(command.messageId)).toMatchObject({ published: true, attempts: 1 });
    expect(await stored(unroutable.messageId)).toMatchObject({ published: true });
    expect(await stored(notification.messageId)).toBeUndefined();
    expect(await receive(queue, 2)).toEqual([command.messageId, notification.messageId].sort());
  });

  it('leaves a row the broker refuses (nack) unsent with its error and backoff, marks the confirmed rows beside it, and sends it once due', async () => {
    // A queue that holds nothing and refuses what it cannot hold: the broker nacks every publish to it.
    const full = await boundQueue('full', { 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    const open = await boundQueue('open');
    const refused = row('ExecuteTask', 'full');
    const accepted = [row('ExecuteTask', 'open'), row('CancelTask', 'open')];
    await enqueue(accepted[0]!, refused, accepted[1]!);
    const publisher = confirmingPublisher();
    try {
      const delays: number[] = [];
      const first = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        new Map(),
        options({ retryDelayMs: (failures) => (delays.push(failures), 60_000) }),
      );
      expect(first).toMatchObject({ published: 2, failed: 1, retryInMs: 60_000 });
      expect(delays).toEqual([1]);
      for (const message of accepted) {
        expect(await stored(message.messageId)).toMatchObject({ published: true, attempts: 1 });
      }
      const left = await stored(refused.messageId);
      expect(left).toMatchObject({ published: false, attempts: 1 });
      expect(left?.last_error).toMatch(/NACK/);
      expect(left?.due_in_ms).toBeGreaterThan(50_000);

      // Not due yet: the claim skips it.
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 0,
        failed: 0,
      });

      // Due, still refused: a second failure, counted for the backoff.
      await makeDue(refused.messageId);
      const second = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        new Map(),
        options({ retryDelayMs: (failures) => (delays.push(failures), 60_000) }),
      );
      expect(second).toMatchObject({ published: 0, failed: 1 });
      expect(delays).toEqual([1, 2]);
      expect(await stored(refused.messageId)).toMatchObject({ published: false, attempts: 2 });

      // The broker takes it again: once due, it is sent.
      await connection.queueDelete({ queue: full });
      const repaired = await boundQueue('full');
      await makeDue(refused.messageId);
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 1,
        failed: 0,
      });
      expect(await stored(refused.messageId)).toMatchObject({ published: true, attempts: 3 });
      expect(await receive(repaired, 1)).toEqual([refused.messageId]);
      expect(await receive(open, 2)).toEqual(accepted.map((m) => m.messageId).sort());
    } finally {
      await publisher.close();
    }
  });

  it('leaves every row unsent when the broker closes the channel (no such exchange), and sends them once it exists', async () => {
    const missing = `${deps.topology.prefix}.missing-${randomBytes(3).toString('hex')}`;
    cleanup.exchanges.push(missing);
    const lost = row('ExecuteTask', 'here', missing);
    await enqueue(lost);
    const publisher = confirmingPublisher();
    try {
      const first = await relayOutboxBatch(deps.dataSource, publisher, new Map(), options());
      expect(first).toMatchObject({ published: 0, failed: 1 });
      const left = await stored(lost.messageId);
      expect(left).toMatchObject({ published: false, attempts: 1 });
      expect(left?.last_error).toMatch(/NOT_FOUND|no exchange/i);

      await connection.exchangeDeclare({ exchange: missing, type: 'direct', durable: true });
      const queue = `${deps.topology.prefix}.relay-${randomBytes(3).toString('hex')}`;
      cleanup.queues.push(queue);
      await connection.queueDeclare({ queue, durable: true });
      await connection.queueBind({ queue, exchange: missing, routingKey: 'here' });
      await makeDue(lost.messageId);
      // The same publisher: it opens a new channel for the next send.
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 1,
        failed: 0,
      });
      expect(await stored(lost.messageId)).toMatchObject({ published: true, attempts: 2 });
      expect(await receive(queue, 1)).toEqual([lost.messageId]);
    } finally {
      await publisher.close();
    }
  });

  it('counts a publish the client refuses (a closed publisher) as failed', async () => {
    const message = row('ExecuteTask', 'bound');
    await enqueue(message);
    const publisher = confirmingPublisher();
    await publisher.close();
    const result = await relayOutboxBatch(deps.dataSource, publisher, new Map(), options());
    expect(result).toMatchObject({ published: 0, failed: 1 });
    expect((await stored(message.messageId))?.last_error).toMatch(/closed/);
  });
});
