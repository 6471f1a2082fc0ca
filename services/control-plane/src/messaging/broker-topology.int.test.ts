import { Connection, ConsumerStatus } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_LIMIT, topology as buildTopology, type Topology } from '@meridian/contracts/topology';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  waitFor,
} from '../../../../test/support/test-context.js';
import { controlPlaneDeclarations } from './broker-topology.js';

let topology: Topology;
let connection: Connection;

beforeAll(() => {
  topology = buildTopology(uniquePrefix());
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
});
afterAll(async () => {
  await connection.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix);
});

describe('the control plane queues on a real broker', () => {
  it.each(['agentEventsQueue', 'logsQueue'] as const)(
    '%s dead-letters a message that keeps failing after the delivery limit',
    async (which) => {
      const declarations = controlPlaneDeclarations(topology);
      const queue = declarations[which];
      const deadLetterQueue =
        which === 'logsQueue' ? declarations.logsDeadLetterQueue : declarations.deadLetterQueue;
      const exchange = which === 'logsQueue' ? topology.logsExchange : topology.agentEventsExchange;
      // Declared once, before anything uses them: on RabbitMQ 3.10 a consume that races the
      // declaration of a new quorum queue can find its process not started yet (INTERNAL_ERROR).
      for (const exchange of declarations.exchanges) await connection.exchangeDeclare(exchange);
      await connection.queueDeclare(queue);
      await connection.queueDeclare(deadLetterQueue);
      for (const binding of declarations.queueBindings) {
        if (binding.queue === queue.queue || binding.queue === deadLetterQueue.queue) {
          await connection.queueBind(binding);
        }
      }
      const publisher = connection.createPublisher({ confirm: true });
      let deliveries = 0;
      // Fails every time, as a message that crashes its consumer would.
      const poisoned = connection.createConsumer({ queue: queue.queue, queueOptions: queue }, () => {
        deliveries += 1;
        return ConsumerStatus.REQUEUE;
      });
      poisoned.on('error', () => undefined); // each requeue is by design here
      try {
        await publisher.send(
          { exchange, routingKey: 'node.n', messageId: 'poison', durable: true },
          { bad: true },
        );
        await waitFor(async () => (await connection.queueDeclare(deadLetterQueue)).messageCount === 1, {
          description: `the poison message in ${deadLetterQueue.queue}`,
        });
        // Delivered up to the limit, then parked by the broker rather than redelivered forever.
        expect(deliveries).toBeGreaterThanOrEqual(DELIVERY_LIMIT);
        expect(deliveries).toBeLessThanOrEqual(DELIVERY_LIMIT + 1);
        expect((await connection.queueDeclare(queue)).messageCount).toBe(0);
      } finally {
        await poisoned.close();
        await publisher.close();
      }
    },
  );
});
