import { randomUUID } from 'node:crypto';
import { connect, type GetMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import { EXECUTE_TASK, EXECUTE_TASK_SCHEMA_VERSION } from '@meridian/contracts/messages/execute-task';
import { SIGNATURE_HEADERS, verifyCommand } from '@meridian/contracts/security/command-signature';
import { testAmqpUrl, waitFor } from '../../../../test/support/test-context.js';
import { cancelCommandMessage } from '../app/cancel-command.js';
import { enqueueOutboxMessages, type NewOutboxMessage } from '../persistence/outbox.writes.js';
import { ORIGINAL_SENDER_HEADERS } from '../security/original-sender.js';
import { relayOutboxBatch } from './outbox-relay.js';
import {
  boundQueue,
  confirmingPublisher,
  deps,
  exchange,
  options,
  row,
  useRelayFixture,
} from './outbox-relay.fixture.js';

useRelayFixture();

/** The next `count` messages of `queue`, raw (bytes and headers as the broker delivered them). */
async function take(queue: string, count: number): Promise<GetMessage[]> {
  const amqp = await connect(testAmqpUrl());
  try {
    const channel = await amqp.createChannel();
    const messages: GetMessage[] = [];
    await waitFor(async () => {
      const message = await channel.get(queue, { noAck: true });
      if (message) messages.push(message);
      return messages.length >= count;
    });
    await channel.close();
    return messages;
  } finally {
    await amqp.close();
  }
}

function executeTask(nodeId: string): NewOutboxMessage {
  const messageId = randomUUID();
  const now = new Date();
  return {
    messageId,
    exchange: exchange(),
    routingKey: deps.topology.nodeWorkKey(nodeId),
    type: EXECUTE_TASK,
    correlationId: 'corr-sign',
    body: buildEnvelope(
      EXECUTE_TASK,
      EXECUTE_TASK_SCHEMA_VERSION,
      { messageId, occurredAt: now, correlationId: 'corr-sign', nodeId },
      {
        taskId: randomUUID(),
        executionId: randomUUID(),
        attempt: 1,
        orgId: 'org-sign',
        type: 'Command',
        target: { type: 'Node', id: nodeId },
        payload: { text: 'é ✓ "quoted"' },
        timeoutSeconds: 60,
        deadline: new Date(now.getTime() + 60_000).toISOString(),
      },
    ),
  };
}

function toVerify(message: GetMessage) {
  const body = JSON.parse(message.content.toString('utf8')) as {
    messageId: string;
    type: string;
    nodeId: string;
    payload: { executionId: string };
  };
  return {
    headers: message.properties.headers as Record<string, unknown>,
    body: message.content,
    messageId: body.messageId,
    type: body.type,
    nodeId: body.nodeId,
    executionId: body.payload.executionId,
  };
}

describe('outbox relay signing', () => {
  it('signs every ExecuteTask and CancelTask over the exact bytes it publishes', async () => {
    const nodeId = `n-${randomUUID().slice(0, 8)}`;
    const queue = await boundQueue(deps.topology.nodeWorkKey(nodeId));
    const execute = executeTask(nodeId);
    const cancel = {
      ...cancelCommandMessage(deps.topology, {
        taskId: randomUUID(),
        executionId: randomUUID(),
        nodeId,
        reason: 'asked',
        gracePeriodSeconds: 5,
        correlationId: 'corr-sign',
        now: new Date(),
      }),
      routingKey: deps.topology.nodeWorkKey(nodeId),
    };
    const notification = row('LogLinesStored', deps.topology.nodeWorkKey(nodeId));
    await deps.dataSource.transaction((manager) =>
      enqueueOutboxMessages(manager, [execute, cancel, notification]),
    );
    const publisher = confirmingPublisher();
    try {
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 3,
      });
    } finally {
      await publisher.close();
    }
    const received = await take(queue, 3);
    const byId = new Map(received.map((message) => [String(message.properties.messageId), message]));
    const now = new Date();
    for (const sent of [execute, cancel]) {
      const message = byId.get(sent.messageId)!;
      const command = toVerify(message);
      const check = verifyCommand(command, deps.keyring.verifyKeys, nodeId, now);
      expect(check).toMatchObject({
        ok: true,
        claims: { keyId: deps.keyring.signing.keyId, nodeId, type: sent.type, messageId: sent.messageId },
      });
      if (!check.ok) continue;
      const ttlMs = Date.parse(check.claims.expiresAt) - Date.parse(check.claims.issuedAt);
      expect(ttlMs).toBe(deps.security.commandTtlSeconds * 1000);
      expect(check.claims.executionId).toBe(
        (sent.body as { payload: { executionId: string } }).payload.executionId,
      );

      // One byte changed, or another node: refused.
      const tampered = Buffer.from(message.content);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
      expect(
        verifyCommand({ ...command, body: tampered }, deps.keyring.verifyKeys, nodeId, now),
      ).toMatchObject({
        ok: false,
        code: 'bad-signature',
      });
      expect(verifyCommand(command, deps.keyring.verifyKeys, 'another-node', now)).toMatchObject({
        ok: false,
        code: 'wrong-node',
      });
    }
    // What is not a command goes out unsigned.
    const live = byId.get(notification.messageId)!;
    expect(live.properties.headers?.[SIGNATURE_HEADERS.signature]).toBeUndefined();
  });

  it('publishes a row with headers of its own (a re-driven message) byte for byte, headers included', async () => {
    const queue = await boundQueue('redriven');
    const body = Buffer.from('{"messageId": "x",  "spaces": "kept"}');
    const messageId = randomUUID();
    const headers = {
      [ORIGINAL_SENDER_HEADERS.sender]: 'm.node.a',
      [ORIGINAL_SENDER_HEADERS.signature]: 'c2ln',
    };
    await deps.dataSource.query(
      `INSERT INTO outbox (message_id, amqp_message_id, exchange, routing_key, type, body_bytes, correlation_id, headers)
       VALUES ($1, 'original-id', $2, 'redriven', 'TaskStarted', $3, 'c', $4::jsonb)`,
      [messageId, exchange(), body, JSON.stringify(headers)],
    );
    const publisher = confirmingPublisher();
    try {
      await relayOutboxBatch(deps.dataSource, publisher, new Map(), options());
    } finally {
      await publisher.close();
    }
    const [message] = await take(queue, 1);
    expect(message!.content.equals(body)).toBe(true);
    expect(message!.properties.messageId).toBe('original-id');
    expect(message!.properties.headers).toMatchObject(headers);
  });
});
