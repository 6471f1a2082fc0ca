import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { create as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import { GAME_SERVER_READY_PATTERN, writeGameServer } from '../../agent/src/testing/game-server.js';
import { killHard, processesWhere } from '../support/process-tree.js';
import { startAgent } from '../support/processes.js';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const dataDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-servers-'));
const scriptDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-game-'));
const stack = useStack({ agentEnv: { AGENT_DATA_DIR: dataDir } });
/** Long enough for the script to answer on any machine; the test asserts on what came in it. */
const COMMAND_WINDOW_MS = 3_000;
const serverDir = (serverId: string) => join(dataDir, 'servers', serverId);

interface TaskView {
  id: string;
  status: string;
  nodeId: string | null;
}
interface ExecutionView {
  status: string;
  result: Record<string, unknown> | null;
  error: string | null;
}

/** Creates a task, waits for it to finish and returns it with its last execution. */
async function run(body: Record<string, unknown>, timeoutMs = 30_000) {
  const created = await stack.api<TaskView & { detail?: string }>('POST', '/api/v1/tasks', { body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const task = await stack.waitForStatus(
    created.body.id,
    ['Completed', 'Failed', 'Timeout', 'Cancelled'],
    timeoutMs,
  );
  const executions = await stack.api<{ items: ExecutionView[] }>(
    'GET',
    `/api/v1/tasks/${created.body.id}/executions`,
  );
  const execution = executions.body.items.at(-1)!;
  expect(task['status'], JSON.stringify(execution)).toBe('Completed');
  return { task, execution, created: created.body };
}

const server = (type: string, serverId: string, payload: Record<string, unknown> = {}, extra = {}) => ({
  type,
  targetType: 'Server',
  targetId: serverId,
  payload,
  ...extra,
});

async function serversOfNode() {
  const { body } = await stack.api<{ items: { serverId: string; state: string; pid: number | null }[] }>(
    'GET',
    `/api/v1/nodes/${stack.nodeId}/servers`,
  );
  return body.items;
}

async function waitForServerState(serverId: string, state: string) {
  return waitFor(
    async () => (await serversOfNode()).find((item) => item.serverId === serverId && item.state === state),
    { timeoutMs: 15_000, description: `server ${serverId} to be ${state} at GET /nodes/{id}/servers` },
  );
}

/** The integration events published on P.events, read from a queue of the test's own. */
let events: { connection: ChannelModel; channel: Channel; received: Record<string, unknown>[] };
let files: { server: Server; url: string; body: Buffer; sha256: string };

beforeAll(async () => {
  const connection = await connect(stack.amqpUrl);
  const channel = await connection.createChannel();
  const { eventsExchange } = topology(stack.prefix);
  await channel.assertExchange(eventsExchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, eventsExchange, 'server.#');
  const received: Record<string, unknown>[] = [];
  await channel.consume(queue, (message) => {
    if (message) received.push(JSON.parse(message.content.toString()) as Record<string, unknown>);
  });
  events = { connection, channel, received };

  // The update a files service would hand out: a tar.gz with a new version file and a plugin.
  const source = mkdtempSync(join(tmpdir(), 'meridian-e2e-update-'));
  mkdirSync(join(source, 'plugins'));
  writeFileSync(join(source, 'version.txt'), '1.21.4\n');
  writeFileSync(join(source, 'plugins', 'essentials.jar'), 'plugin bytes');
  const archive = join(source, 'update.tar.gz');
  await createTar({ gzip: true, file: archive, cwd: source, portable: true }, ['version.txt', 'plugins']);
  const body = readFileSync(archive);
  rmSync(source, { recursive: true, force: true });
  const httpServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-length': body.length, 'content-type': 'application/gzip' });
    response.end(body);
  });
  await new Promise<void>((listening) => httpServer.listen(0, '127.0.0.1', listening));
  const { port } = httpServer.address() as AddressInfo;
  files = {
    server: httpServer,
    url: `http://127.0.0.1:${port}/update.tar.gz`,
    body,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
});

afterAll(async () => {
  // Servers outlive their agent by design: end the ones this file started.
  for (const pid of processesWhere((cmdline) => cmdline.includes(scriptDir))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await events?.connection.close();
  await new Promise((closed) => files?.server.close(closed));
  rmSync(scriptDir, { recursive: true, force: true });
});

function spec(extra: Record<string, unknown> = {}) {
  return {
    argv: writeGameServer(scriptDir),
    stop: { type: 'command', command: 'stop' },
    stopTimeoutSeconds: 5,
    readyPattern: GAME_SERVER_READY_PATTERN,
    ...extra,
  };
}

describe('a game server driven through the API, real control plane and agent processes', () => {
  it('stop, back up, update, start again: seed 004 as tasks in sequence on one node', async () => {
    const id = 'mc-seed';
    const started = await run(server('ServerStart', id, { spec: spec() }, { nodeId: stack.nodeId }));
    expect(started.created.nodeId).toBe(stack.nodeId);
    expect(started.execution.result).toMatchObject({ pid: expect.any(Number) as unknown });
    await waitForServerState(id, 'running');

    const said = await run(server('ServerCommand', id, { command: 'say hi', windowMs: COMMAND_WINDOW_MS }));
    expect(said.execution.result?.['lines']).toContain('[Server] hi');
    await run(server('ServerCommand', id, { command: 'save', windowMs: 0 }));
    await waitFor(() => existsSync(join(serverDir(id), 'world', 'save-1.dat')), {
      timeoutMs: 10_000,
      description: 'the save command to write its file',
    });

    // No nodeId: the control plane knows the server's node from the heartbeats.
    const stopped = await run(server('ServerStop', id));
    expect(stopped.created.nodeId).toBe(stack.nodeId);
    expect(stopped.execution.result).toMatchObject({ stoppedBy: 'graceful', exitCode: 0 });
    await waitForServerState(id, 'stopped');

    const backup = await run(server('Backup', id, { keepLast: 3 }));
    expect(backup.execution.result).toMatchObject({
      location: 'local',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      sizeBytes: expect.any(Number) as unknown,
    });

    const update = await run(server('ServerUpdate', id, { url: files.url, sha256: files.sha256 }));
    expect(update.execution.result).toMatchObject({ sha256: files.sha256, sizeBytes: files.body.length });
    expect(readFileSync(join(serverDir(id), 'version.txt'), 'utf8')).toBe('1.21.4\n');
    expect(readFileSync(join(serverDir(id), 'plugins', 'essentials.jar'), 'utf8')).toBe('plugin bytes');
    // The update kept what was there.
    expect(existsSync(join(serverDir(id), 'world', 'save-1.dat'))).toBe(true);

    // The kept spec: no payload needed.
    await run(server('ServerStart', id));
    await waitForServerState(id, 'running');

    const states = () =>
      events.received.filter((event) => event['serverId'] === id).map((event) => event['state']);
    await waitFor(() => states().filter((state) => state === 'running').length >= 2, {
      timeoutMs: 10_000,
      description: 'server.state_changed events for the second start',
    });
    const seen = states();
    // In order, each change once: running … stopped … running.
    const firstRunning = seen.indexOf('running');
    const stoppedAt = seen.indexOf('stopped', firstRunning);
    expect(firstRunning).toBeGreaterThanOrEqual(0);
    expect(stoppedAt).toBeGreaterThan(firstRunning);
    expect(seen.indexOf('running', stoppedAt)).toBeGreaterThan(stoppedAt);
    for (let index = 1; index < seen.length; index += 1) expect(seen[index]).not.toBe(seen[index - 1]);

    await run(server('ServerStop', id));
  });

  it('refuses at POST what cannot be placed or is malformed, naming the field', async () => {
    const unplaced = await stack.api<{ detail: string; errors?: unknown }>('POST', '/api/v1/tasks', {
      body: server('ServerStart', 'mc-nowhere', { spec: spec() }),
    });
    expect(unplaced.status).toBe(422);
    expect(JSON.stringify(unplaced.body)).toContain('nodeId');

    const malformed = await stack.api('POST', '/api/v1/tasks', {
      body: server('ServerStart', 'mc-bad', { spec: { argv: [] } }, { nodeId: stack.nodeId }),
    });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('body.payload.spec.argv');
  });

  it('keeps a server running across a kill -9 of the agent: still running and still known afterwards', async () => {
    const id = 'mc-survivor';
    const started = await run(server('ServerStart', id, { spec: spec() }, { nodeId: stack.nodeId }));
    const pid = started.execution.result?.['pid'] as number;
    await waitForServerState(id, 'running');

    await killHard(stack.agent);
    stack.agent = await startAgent({
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      nodeId: stack.nodeId,
      orgId: stack.orgId,
      maxConcurrency: 10,
      env: { AGENT_DATA_DIR: dataDir },
    });

    const said = await run(
      server('ServerCommand', id, { command: 'say still here', windowMs: COMMAND_WINDOW_MS }),
    );
    expect(said.execution.result?.['lines']).toContain('[Server] still here');
    const status = await run(server('ServerStatus', id));
    expect(status.execution.result).toMatchObject({ state: 'running', pid });
    expect((await serversOfNode()).find((item) => item.serverId === id)).toMatchObject({
      state: 'running',
      pid,
    });

    await run(server('ServerStop', id));
    await waitForServerState(id, 'stopped');
  });
});
