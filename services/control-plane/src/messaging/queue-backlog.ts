import type { Connection } from 'rabbitmq-client';

/**
 * Messages ready in `queue` and not yet delivered to a consumer (a passive declare: it creates
 * nothing); undefined when the broker cannot say (not connected, the queue missing).
 */
export async function readyMessages(connection: Connection, queue: string): Promise<number | undefined> {
  try {
    const declared = await connection.queueDeclare({ queue, passive: true });
    return declared.messageCount;
  } catch {
    return undefined;
  }
}
