import { describe, expect, it } from 'vitest';
import { startAgent, startControlPlane } from '../support/processes.js';
import {
  deleteBrokerObjects,
  failOnLeakedProcesses,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
} from '../support/test-context.js';

failOnLeakedProcesses();
const database = useTestDatabase();

function loggedMessages(logs: readonly string[]): string[] {
  return logs.flatMap((line) => {
    try {
      return [String((JSON.parse(line) as { msg?: unknown }).msg)];
    } catch {
      return [];
    }
  });
}

describe('graceful shutdown on SIGTERM', () => {
  it('the control plane stops cleanly and exits 0; so does the agent', async () => {
    const prefix = uniquePrefix();
    const nodeId = `${prefix}-node`;
    try {
      const controlPlane = await startControlPlane({
        databaseUrl: database.url,
        amqpUrl: testAmqpUrl(),
        prefix,
      });
      const agent = await startAgent({ amqpUrl: testAmqpUrl(), prefix, nodeId, orgId: 'org-shutdown' });

      const agentExit = await agent.stop('SIGTERM');
      expect(agentExit).toEqual({ code: 0, signal: null });
      expect(loggedMessages(agent.logs)).toContain('agent stopped');

      const exit = await controlPlane.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      const messages = loggedMessages(controlPlane.logs);
      expect(messages).toContain('shutting down');
      expect(messages.at(-1)).toBe('control plane stopped');
    } finally {
      await deleteBrokerObjects(testAmqpUrl(), prefix, { nodeIds: [nodeId] });
    }
  });
});
