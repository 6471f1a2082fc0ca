import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteBrokerObjects, testAmqpUrl, uniquePrefix } from '../../../../test/support/test-context.js';
import { readyMessages } from './queue-backlog.js';

let prefix: string;
let connection: Connection;

beforeAll(() => {
  prefix = uniquePrefix();
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
});
afterAll(async () => {
  await connection.close();
  await deleteBrokerObjects(testAmqpUrl(), prefix, { queues: [`${prefix}.backlog`], exchanges: [] });
});

it('counts the messages waiting in a queue without creating or consuming anything', async () => {
  const queue = `${prefix}.backlog`;
  expect(await readyMessages(connection, queue)).toBeUndefined();
  await connection.queueDeclare({ queue, durable: true });
  const publisher = connection.createPublisher({ confirm: true });
  try {
    for (let index = 0; index < 3; index += 1) await publisher.send({ routingKey: queue }, { index });
  } finally {
    await publisher.close();
  }
  expect(await readyMessages(connection, queue)).toBe(3);
  expect(await readyMessages(connection, queue)).toBe(3);
});
