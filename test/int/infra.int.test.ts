import { connect as connectAmqp } from 'amqplib';
import type { Channel } from 'amqplib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import { withDatabase } from '../support/infra.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../support/test-context.js';

describe('test harness', () => {
  const database = useTestDatabase();

  it('clones a database that already has the migrated tables', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['tasks', 'schema_migrations']),
      );
      const current = await client.query<{ name: string }>('SELECT current_database() AS name');
      expect(current.rows[0]?.name).toBe(database.name);
      expect(database.name).toMatch(/^meridian_test_[0-9a-f]{12}$/);
    } finally {
      await client.end();
    }
  });

  it('gives every call of uniquePrefix a different t-<8 hex> prefix', () => {
    const prefixes = Array.from({ length: 100 }, () => uniquePrefix());
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const prefix of prefixes) expect(prefix).toMatch(/^t-[0-9a-f]{8}$/);
  });

  it('deletes the broker objects of a prefix, and only those', async () => {
    const prefix = uniquePrefix();
    const names = topology(prefix);
    const connection = await connectAmqp(testAmqpUrl());
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(names.commandsExchange, 'direct', { durable: false });
      await channel.assertQueue(names.nodeWorkQueue('n1'), { durable: false });
      await channel.close();

      await deleteBrokerObjects(testAmqpUrl(), prefix, { nodeIds: ['n1'] });

      const exists = async (check: (ch: Channel) => Promise<unknown>) => {
        const probe = await connection.createChannel();
        probe.on('error', () => undefined);
        try {
          await check(probe);
          await probe.close();
          return true;
        } catch {
          return false;
        }
      };
      expect(await exists((ch) => ch.checkQueue(names.nodeWorkQueue('n1')))).toBe(false);
      expect(await exists((ch) => ch.checkExchange(names.commandsExchange))).toBe(false);
      await expect(deleteBrokerObjects(testAmqpUrl(), prefix, { queues: ['other.queue'] })).rejects.toThrow(
        /outside prefix/,
      );
    } finally {
      await connection.close();
    }
  });

  it('waitFor resolves with the first truthy value and fails at its deadline', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? 'done' : undefined), { intervalMs: 1 })).resolves.toBe('done');
    await expect(waitFor(() => false, { timeoutMs: 30, description: 'never' })).rejects.toThrow(
      /timed out after 30 ms waiting for never/,
    );
  });

  it('points a server URL at another database', () => {
    expect(withDatabase('postgres://u:p@h:5432/postgres?sslmode=disable', 'x_1')).toBe(
      'postgres://u:p@h:5432/x_1?sslmode=disable',
    );
  });
});
