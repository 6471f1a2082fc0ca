import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import { signCommand, type SigningKey } from '@meridian/contracts/security/command-signature';
import { connectAs } from '../support/amqp-as.js';
import type { EnrolledAgent } from '../support/enrolled-agent.js';
import { waitForCommandRejection } from '../support/forged-messages.js';
import { waitFor } from '../support/test-context.js';
import { commandTask } from './stack.js';
import { useSecureStack } from './secure-stack.js';

/**
 * Commands put straight into node B's work queue by someone with broker rights (here the
 * administrator): B's agent acts only on what the control plane signed for B, now, once.
 */
const stack = useSecureStack({ nodes: ['b'] });
let b: EnrolledAgent;
let admin: ChannelModel;
let channel: Channel;
let folder: string;
/** B's completed task, whose command every forgery below tries to run again. */
let done: { taskId: string; executionId: string; command: GetMessage };

const runsFile = () => join(folder, 'runs');
const runLines = async () => (await readFile(runsFile(), 'utf8')).split('\n').filter(Boolean);

beforeAll(async () => {
  b = stack.agent('b');
  folder = await mkdtemp(join(tmpdir(), 'meridian-signed-commands-'));
  admin = await connectAs(stack.amqpUrl);
  channel = await admin.createChannel();
  // A copy of every command sent to B, to replay one byte for byte.
  const copies = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(copies.queue, stack.names.commandsExchange, stack.names.nodeWorkKey(b.nodeId));

  const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
    body: commandTask(`echo run >> '${runsFile()}'`, { nodeId: b.nodeId }),
  });
  await stack.waitForStatus(created.body.id, ['Completed']);
  const command = await waitFor(async () => (await channel.get(copies.queue, { noAck: true })) || undefined, {
    description: 'the copy of the ExecuteTask sent to B',
  });
  const executionId = (JSON.parse(command.content.toString('utf8')) as { payload: { executionId: string } })
    .payload.executionId;
  done = { taskId: created.body.id, executionId, command };
  expect(await runLines()).toEqual(['run']);
});
afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  if (folder) {
    await writeFile(join(folder, 'release'), '');
    await rm(folder, { recursive: true, force: true });
  }
});

interface Forgery {
  body: Buffer;
  messageId: string;
  type: string;
  headers: Record<string, unknown>;
}

/** An ExecuteTask for B's completed execution that would append `marker` to the runs file. */
function executeTaskBody(marker: string, nodeId = b.nodeId) {
  const messageId = randomUUID();
  const body = buildEnvelope(
    'ExecuteTask',
    1,
    { messageId, occurredAt: new Date(), correlationId: 'forged', nodeId },
    {
      taskId: done.taskId,
      executionId: done.executionId,
      attempt: 1,
      orgId: stack.orgId,
      type: 'Command',
      target: { type: 'Node', id: 'e2e-target' },
      payload: { command: `echo ${marker} >> '${runsFile()}'`, shell: true },
      timeoutSeconds: 60,
      deadline: new Date(Date.now() + 60_000).toISOString(),
    },
  );
  return { messageId, bytes: Buffer.from(JSON.stringify(body)) };
}

/** Signs as the control plane signs, with `key`, over the claims given (B's node and execution by default). */
function signed(
  key: SigningKey,
  marker: string,
  claims: { nodeId?: string; executionId?: string; issuedAt?: Date; ttlMs?: number } = {},
): Forgery {
  const nodeId = claims.nodeId ?? b.nodeId;
  const { messageId, bytes } = executeTaskBody(marker, nodeId);
  const issuedAt = claims.issuedAt ?? new Date();
  const headers = signCommand(
    key,
    {
      issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + (claims.ttlMs ?? 900_000)).toISOString(),
      messageId,
      type: 'ExecuteTask',
      nodeId,
      executionId: claims.executionId ?? done.executionId,
    },
    bytes,
  );
  return { body: bytes, messageId, type: 'ExecuteTask', headers };
}

const HOUR = 3_600_000;
const forgeries: Array<[string, string, () => Forgery]> = [
  [
    'unsigned',
    'missing-signature',
    () => {
      const { messageId, bytes } = executeTaskBody('unsigned');
      return { body: bytes, messageId, type: 'ExecuteTask', headers: {} };
    },
  ],
  [
    'signed with a key the control plane never had',
    'unknown-key',
    () => signed({ keyId: 'forger-key', privateKey: generateKeyPairSync('ed25519').privateKey }, 'forged'),
  ],
  [
    'tampered with after signing',
    'bad-signature',
    () => {
      const genuine = signed(stack.signingKey, 'genuine');
      const body = Buffer.from(genuine.body.toString('utf8').replace('echo genuine', 'echo tampered'));
      return { ...genuine, body };
    },
  ],
  [
    'expired',
    'expired',
    () => signed(stack.signingKey, 'expired', { issuedAt: new Date(Date.now() - 2 * HOUR), ttlMs: HOUR }),
  ],
  [
    'signed for another node',
    'wrong-node',
    () => signed(stack.signingKey, 'other-node', { nodeId: `${stack.prefix}-someone-else` }),
  ],
  [
    'signed for another execution than its body names',
    'mismatch',
    () => signed(stack.signingKey, 'mismatch', { executionId: randomUUID() }),
  ],
  [
    'replayed byte for byte',
    'replayed',
    () => ({
      body: done.command.content,
      messageId: String(done.command.properties.messageId),
      type: 'ExecuteTask',
      headers: done.command.properties.headers ?? {},
    }),
  ],
];

describe("commands put into B's work queue", () => {
  it.each(forgeries)('%s: refused by the agent (%s), reported, never run', async (_name, code, forge) => {
    const forgery = forge();
    channel.publish('', stack.names.nodeWorkQueue(b.nodeId), forgery.body, {
      contentType: 'application/json',
      persistent: true,
      messageId: forgery.messageId,
      type: forgery.type,
      headers: forgery.headers,
    });

    const rejection = await waitForCommandRejection(stack.db, b.nodeId, forgery.messageId);
    expect(rejection).toMatchObject({ code, commandType: 'ExecuteTask', executionId: done.executionId });
    // The task's history shows it too: the refusal named the task's execution.
    const events = await stack.api<{ items: { type: string; data: { commandMessageId?: string } }[] }>(
      'GET',
      `/api/v1/tasks/${done.taskId}/events`,
    );
    const rejected = events.body.items.filter(
      (event) => event.type === 'CommandRejected' && event.data.commandMessageId === forgery.messageId,
    );
    expect(rejected).toHaveLength(1);
    await b.waitForLog(
      (entry) =>
        Number(entry['level']) >= 40 &&
        (JSON.stringify(entry).includes(forgery.messageId) || JSON.stringify(entry).includes(code)),
    );

    expect(await runLines()).toEqual(['run']);
    const task = await stack.api<{ status: string }>('GET', `/api/v1/tasks/${done.taskId}`);
    expect(task.body.status).toBe('Completed');
    const runs = await stack.api<{ items: unknown[] }>('GET', `/api/v1/tasks/${done.taskId}/executions`);
    expect(runs.body.items).toHaveLength(1);
  });

  it('a forged CancelTask does not stop work in progress', async () => {
    const release = join(folder, 'release');
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: commandTask(`while [ ! -e '${release}' ]; do sleep 0.1; done; echo finished`, {
        nodeId: b.nodeId,
      }),
    });
    await stack.waitForStatus(created.body.id, ['Running']);
    const runs = await stack.api<{ items: { executionId: string }[] }>(
      'GET',
      `/api/v1/tasks/${created.body.id}/executions`,
    );
    const executionId = runs.body.items[0]!.executionId;

    const messageId = randomUUID();
    const cancel = buildEnvelope(
      'CancelTask',
      1,
      { messageId, occurredAt: new Date(), correlationId: 'forged', nodeId: b.nodeId },
      {
        taskId: created.body.id,
        executionId,
        reason: 'forged',
        gracePeriodSeconds: 0,
      },
    );
    channel.publish('', stack.names.nodeControlQueue(b.nodeId), Buffer.from(JSON.stringify(cancel)), {
      contentType: 'application/json',
      persistent: true,
      messageId,
      type: 'CancelTask',
    });
    expect(await waitForCommandRejection(stack.db, b.nodeId, messageId)).toMatchObject({
      code: 'missing-signature',
      commandType: 'CancelTask',
      executionId,
    });

    expect((await stack.api<{ status: string }>('GET', `/api/v1/tasks/${created.body.id}`)).body.status).toBe(
      'Running',
    );
    await writeFile(release, '');
    expect(await stack.waitForStatus(created.body.id, ['Completed', 'Cancelled', 'Failed'])).toMatchObject({
      status: 'Completed',
    });
  });
});
