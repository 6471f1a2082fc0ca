import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerUsername } from '@meridian/contracts/security/node-identity';
import { startDevStack, type DevStackProcess } from '../support/dev-stack-process.js';
import { startPrivateRabbitMq, type PrivateRabbitMq } from '../support/private-rabbitmq.js';
import { findFreePort } from '../support/processes.js';
import { deleteBrokerObjects, testAmqpUrl, uniquePrefix, useTestDatabase } from '../support/test-context.js';

/**
 * `npm start` keeps its two-command promise on either broker: with the management API the local
 * agent is enrolled (its own broker user); without it, it runs in development mode on the shared
 * login and the developer is told so, loudly.
 */
let running: DevStackProcess | undefined;
afterAll(async () => {
  await running?.interrupt();
});

async function nodeOf(baseUrl: string, token: string, nodeId: string) {
  const response = await fetch(`${baseUrl}/api/v1/nodes/${nodeId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Starts the stack, waits for its welcome text, and reads the API address and token from it. */
async function startAndWelcome(env: Record<string, string>) {
  const port = await findFreePort();
  running = startDevStack({ PORT: String(port), LOG_LEVEL: 'info', ...env });
  await running.waitForLine(/^Meridian Tasks is running\.$/);
  const token = (await running.waitForLine(/export TOKEN=/)).split('export TOKEN=')[1]!.trim();
  return { stack: running, baseUrl: `http://127.0.0.1:${port}`, token };
}

async function stop(stack: DevStackProcess) {
  expect(await stack.interrupt()).toBe(0);
  running = undefined;
}

describe('npm start with a broker that has the management API', () => {
  const database = useTestDatabase();
  let broker: PrivateRabbitMq;
  beforeAll(async () => {
    broker = await startPrivateRabbitMq({ management: true });
  });
  afterAll(async () => {
    await broker?.destroy();
  });

  it('enrolls the local agent through the API, on a broker user of its own', async () => {
    const prefix = uniquePrefix();
    const { stack, baseUrl, token } = await startAndWelcome({
      DATABASE_URL: database.url,
      AMQP_URL: broker.url,
      // Not on 15672 (the port is the test's own): as a developer whose broker listens elsewhere sets it.
      BROKER_MANAGEMENT_URL: broker.managementUrl!,
      TOPOLOGY_PREFIX: prefix,
    });
    const welcome = stack.output.join('\n');
    expect(welcome).toContain(`enrolled: broker user ${brokerUsername(prefix, 'local-node')}`);
    expect(welcome).not.toContain('DEVELOPMENT MODE');
    const node = await nodeOf(baseUrl, token, 'local-node');
    expect(node.body).toMatchObject({ status: 'online', orgId: 'dev-org', enrolled: true });
    await stop(stack);
  });
});

describe('npm start with a broker without the management API', () => {
  const database = useTestDatabase();
  const prefix = uniquePrefix();
  afterAll(async () => {
    await deleteBrokerObjects(testAmqpUrl(), prefix, { nodeIds: ['local-node'] });
  });
  const noManagement = async () => `http://guest:guest@127.0.0.1:${await findFreePort()}`;

  it('runs the local agent in development mode on the shared login, and says so before and after the welcome', async () => {
    const { stack, baseUrl, token } = await startAndWelcome({
      DATABASE_URL: database.url,
      AMQP_URL: testAmqpUrl(),
      BROKER_MANAGEMENT_URL: await noManagement(),
      TOPOLOGY_PREFIX: prefix,
    });
    const banners = stack.output.filter((line) =>
      line.includes('DEVELOPMENT MODE: the local agent uses the shared'),
    );
    expect(banners).toHaveLength(2);
    for (const banner of banners) expect(banner.startsWith('! ')).toBe(true); // on stderr
    const welcomeAt = stack.output.indexOf('Meridian Tasks is running.');
    expect(stack.output.findIndex((line) => line.includes('DEVELOPMENT MODE: the local'))).toBeLessThan(
      welcomeAt,
    );
    expect(
      stack.output.findLastIndex((line) => line.includes('DEVELOPMENT MODE: the local')),
    ).toBeGreaterThan(welcomeAt);
    expect(stack.output.join('\n')).toMatch(
      /Why: nothing answered at http:\/\/guest:\*\*\*@127\.0\.0\.1:\d+/,
    );
    expect(stack.output.join('\n')).toMatch(
      /Agent {4}local-node in org dev-org, capacity 10, DEVELOPMENT MODE/,
    );
    const node = await nodeOf(baseUrl, token, 'local-node');
    expect(node.body).toMatchObject({ status: 'online', orgId: 'dev-org', enrolled: false });
    await stop(stack);
  });

  it('refuses to start the agent on the shared login when REQUIRE_AGENT_ENROLLMENT=true', async () => {
    running = startDevStack({
      PORT: String(await findFreePort()),
      DATABASE_URL: database.url,
      AMQP_URL: testAmqpUrl(),
      BROKER_MANAGEMENT_URL: await noManagement(),
      TOPOLOGY_PREFIX: prefix,
      REQUIRE_AGENT_ENROLLMENT: 'true',
    });
    expect(await running.exited).toBe(1);
    expect(running.output.join('\n')).toMatch(
      /REQUIRE_AGENT_ENROLLMENT=true needs the broker's management API to enroll the local agent: nothing answered/,
    );
    running = undefined;
  });
});
