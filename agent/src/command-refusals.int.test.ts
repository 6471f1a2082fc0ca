import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CommandMessage } from '@meridian/contracts/messages/command-message';
import type { CommandRejected } from '@meridian/contracts/messages/command-rejected';
import { SIGNATURE_HEADERS } from '@meridian/contracts/security/command-signature';
import { testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { CommandSigner, type SignedCommand } from './testing/command-signer.js';
import { cancelTask, executeTask } from './testing/commands.js';
import { removeDataDirs, temporaryDataDir } from './testing/data-dir.js';

let harness: AgentHarness | undefined;

afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});
afterAll(removeDataDirs);

async function startEnrolled(): Promise<AgentHarness & { enrolled: NonNullable<AgentHarness['enrolled']> }> {
  const h = (harness = await startAgentHarness(testAmqpUrl(), {}, { enrolled: true }));
  if (!h.enrolled) throw new Error('the harness did not enroll');
  return { ...h, enrolled: h.enrolled };
}

/** A Command that leaves a file behind: proof that it ran. */
function touching(h: AgentHarness) {
  const marker = join(temporaryDataDir(), 'ran');
  const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['touch', marker] } });
  return { command, marker };
}

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const stranger = new CommandSigner('test-key-1');

type Forgery = (
  h: AgentHarness & { enrolled: NonNullable<AgentHarness['enrolled']> },
  command: CommandMessage,
) => SignedCommand;

const withHeaders = (signed: SignedCommand, headers: Record<string, string>): SignedCommand => ({
  ...signed,
  headers: { ...signed.headers, ...headers },
});

describe('an enrolled agent refuses commands that are not what the control plane signed for it', () => {
  it.each<[string, CommandRejected['code'], Forgery]>([
    ['unsigned', 'missing-signature', (_, c) => ({ body: Buffer.from(JSON.stringify(c)), headers: {} })],
    [
      'a signature of random bytes',
      'bad-signature',
      (h, c) => withHeaders(h.enrolled.signer.sign(c), { [SIGNATURE_HEADERS.signature]: 'Zm9yZ2Vk' }),
    ],
    ['signed by another key under the trusted key id', 'bad-signature', (_, c) => stranger.sign(c)],
    [
      'signed by a key the control plane does not list',
      'unknown-key',
      (_, c) => new CommandSigner('rogue').sign(c),
    ],
    [
      'a tampered body',
      'bad-signature',
      (h, c) => {
        const signed = h.enrolled.signer.sign(c);
        const tampered = { ...c, payload: { ...c.payload, payload: { command: ['sh', '-c', 'id'] } } };
        return { ...signed, body: Buffer.from(JSON.stringify(tampered)) };
      },
    ],
    [
      'a tampered (extended) expiry header',
      'bad-signature',
      (h, c) =>
        withHeaders(h.enrolled.signer.sign(c, { expiresAt: minutesFromNow(-30) }), {
          [SIGNATURE_HEADERS.expiresAt]: minutesFromNow(30),
        }),
    ],
    [
      'expired',
      'expired',
      (h, c) => h.enrolled.signer.sign(c, { issuedAt: minutesFromNow(-30), expiresAt: minutesFromNow(-5) }),
    ],
    ['not yet valid', 'not-yet-valid', (h, c) => h.enrolled.signer.sign(c, { issuedAt: minutesFromNow(10) })],
    [
      "signed for another node (another node's command put in this node's queue)",
      'wrong-node',
      (h, c) => h.enrolled.signer.sign({ ...c, nodeId: 'node-other' }),
    ],
    [
      'a body naming another execution than the signature',
      'mismatch',
      (h, c) => h.enrolled.signer.sign(c, { executionId: '00000000-0000-4000-8000-000000000001' }),
    ],
  ])('%s: refused (%s), not run, reported', async (_, code, forge) => {
    const h = await startEnrolled();
    const { command, marker } = touching(h);
    const { body, headers } = forge(h, command);
    await h.publish('work', body, { headers, messageId: command.messageId });

    const rejected = await h.waitForRejection(command.messageId);
    expect(rejected).toMatchObject({
      commandMessageId: command.messageId,
      commandType: 'ExecuteTask',
      taskId: command.payload.taskId,
      executionId: command.payload.executionId,
      code,
    });
    const report = h.rejections.find((r) => r.message.payload.commandMessageId === command.messageId);
    expect(report).toMatchObject({
      routingKey: 'guest.CommandRejected',
      properties: { userId: 'guest', type: 'CommandRejected' },
      message: { nodeId: h.nodeId, correlationId: command.correlationId },
    });

    // A good command after it runs: the refused one was acked and dropped, never run.
    const good = touching(h);
    await h.send(good.command);
    await h.waitForReport(good.command.payload.executionId, 'TaskCompleted');
    expect(existsSync(good.marker)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(h.reportsOf(command.payload.executionId)).toEqual([]);
    await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  });

  it('refuses a replayed command: the same signed bytes published again run nothing', async () => {
    const h = await startEnrolled();
    const command = executeTask(h.nodeId, { payload: { hello: 'once' } });
    const signed = h.enrolled.signer.sign(command);
    await h.publish('work', signed.body, { headers: signed.headers, messageId: command.messageId });
    await h.waitForReport(command.payload.executionId, 'TaskCompleted');

    await h.publish('work', signed.body, { headers: signed.headers, messageId: command.messageId });
    expect(await h.waitForRejection(command.messageId)).toMatchObject({ code: 'replayed' });
    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
  });

  it('refuses a replay even after a restart of the agent (the replay set is on disk)', async () => {
    const h = await startEnrolled();
    const command = executeTask(h.nodeId);
    const signed = h.enrolled.signer.sign(command);
    await h.publish('work', signed.body, { headers: signed.headers, messageId: command.messageId });
    await h.waitForReport(command.payload.executionId, 'TaskCompleted');

    await h.restartAgent();
    await h.publish('work', signed.body, { headers: signed.headers, messageId: command.messageId });
    expect(await h.waitForRejection(command.messageId)).toMatchObject({ code: 'replayed' });
    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
  });

  it('does not obey a forged CancelTask: the execution runs to its end', async () => {
    const h = await startEnrolled();
    const command = executeTask(h.nodeId, { payload: { delayMs: 500 } });
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskStarted');

    const cancel = cancelTask(h.nodeId, command.payload);
    const forged = stranger.sign(cancel);
    await h.publish('control', forged.body, { headers: forged.headers, messageId: cancel.messageId });
    expect(await h.waitForRejection(cancel.messageId)).toMatchObject({
      code: 'bad-signature',
      commandType: 'CancelTask',
      executionId: command.payload.executionId,
    });
    await h.waitForReport(command.payload.executionId, 'TaskCompleted');
    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
  });

  it('reports an unreadable body as invalid, naming the AMQP message id', async () => {
    const h = await startEnrolled();
    await h.publish('work', Buffer.from('{ not json'), { messageId: 'junk-1' });
    expect(await h.waitForRejection('junk-1')).toMatchObject({ code: 'invalid', commandType: 'ExecuteTask' });
  });
});
