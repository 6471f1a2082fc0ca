import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { SigningPublicKey } from '@meridian/contracts/security/command-signature';
import { buildCommandRejected } from '../broker/command-rejections.js';
import { AcceptedCommands } from '../state/accepted-commands.js';
import { CommandSigner } from '../testing/command-signer.js';
import { executeTask } from '../testing/commands.js';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { bodyBytes, createVerifyingGate, type CommandDelivery } from './command-gate.js';
import { SigningKeys } from './signing-keys.js';

afterAll(removeDataDirs);

const logger = pino({ level: 'silent' });
const NODE = 'node-a';

function setup(options: { served?: SigningPublicKey[] } = {}) {
  const signer = new CommandSigner();
  const clock = { now: Date.now() };
  const fetched: number[] = [];
  const saved: SigningPublicKey[][] = [];
  const keys = new SigningKeys({
    initial: [signer.publicKey],
    fetchKeys: () => {
      fetched.push(clock.now);
      return Promise.resolve(options.served ?? [signer.publicKey]);
    },
    save: (list) => saved.push([...list]),
    now: () => clock.now,
    logger,
  });
  const accepted = new AcceptedCommands({ dir: temporaryDataDir(), logger });
  const gate = createVerifyingGate({ nodeId: NODE, keys, accepted, now: () => new Date(clock.now) });
  return { signer, clock, fetched, saved, keys, accepted, gate };
}

/** A delivery as rabbitmq-client hands it over: application/json bodies already parsed. */
function delivery(
  signed: { body: Buffer; headers: Record<string, string> },
  redelivered = false,
): CommandDelivery {
  return {
    body: JSON.parse(signed.body.toString('utf8')) as unknown,
    headers: signed.headers,
    redelivered,
    contentType: 'application/json',
  };
}

describe('the verifying gate', () => {
  it('admits a signed command delivered parsed (its bytes are re-encoded exactly)', async () => {
    const { signer, gate } = setup();
    const command = executeTask(NODE, { payload: { text: 'unicode ✓ "quoted" \u2028', n: 1e21, f: 0.1 } });
    const admission = await gate.admit(delivery(signer.sign(command)));
    expect(admission).toEqual({ ok: true, body: command });
  });

  it('admits the same command once; a copy is refused as replayed, a broker redelivery is let through', async () => {
    const { signer, gate } = setup();
    const signed = signer.sign(executeTask(NODE));
    expect((await gate.admit(delivery(signed))).ok).toBe(true);
    expect(await gate.admit(delivery(signed))).toMatchObject({ ok: false, refusal: { code: 'replayed' } });
    expect((await gate.admit(delivery(signed, true))).ok).toBe(true);
  });

  it('asks for the keys once on an unknown key, and admits the command when the new list has it', async () => {
    const rolled = new CommandSigner('key-2');
    const { gate, fetched, saved } = setup({ served: [rolled.publicKey] });
    expect((await gate.admit(delivery(rolled.sign(executeTask(NODE))))).ok).toBe(true);
    expect(fetched).toHaveLength(1);
    expect(saved).toEqual([[rolled.publicKey]]);
  });

  it('asks at most once per 30 s: a flood of unknown keys costs one request', async () => {
    const { gate, fetched, clock } = setup();
    const rogue = new CommandSigner('rogue');
    const admissions = await Promise.all(
      Array.from({ length: 5 }, () => gate.admit(delivery(rogue.sign(executeTask(NODE))))),
    );
    expect(admissions.every((a) => !a.ok && a.refusal.code === 'unknown-key')).toBe(true);
    expect(fetched).toHaveLength(1);
    clock.now += 29_000;
    await gate.admit(delivery(rogue.sign(executeTask(NODE))));
    expect(fetched).toHaveLength(1);
    clock.now += 1_000;
    await gate.admit(delivery(rogue.sign(executeTask(NODE))));
    expect(fetched).toHaveLength(2);
  });

  it('keeps its keys when the control plane lists none', async () => {
    const { gate, keys, signer } = setup({ served: [] });
    await gate.admit(delivery(new CommandSigner('rogue').sign(executeTask(NODE))));
    expect([...keys.keys.keys()]).toEqual([signer.keyId]);
    expect((await gate.admit(delivery(signer.sign(executeTask(NODE))))).ok).toBe(true);
  });

  it('refuses an unreadable body as invalid, with the AMQP message id', async () => {
    const { gate } = setup();
    const admission = await gate.admit({
      body: Buffer.from('{ nope'),
      redelivered: false,
      messageId: 'amqp-1',
    });
    expect(admission).toMatchObject({ ok: false, refusal: { code: 'invalid', messageId: 'amqp-1' } });
  });
});

describe('bodyBytes', () => {
  it.each<[string, CommandDelivery, string]>([
    ['bytes as they came', { body: Buffer.from('{"a": 1}'), redelivered: false }, '{"a": 1}'],
    ['text/plain as UTF-8', { body: 'héllo', redelivered: false, contentType: 'text/plain' }, 'héllo'],
    [
      'parsed JSON re-encoded',
      { body: { a: [1, 'x'] }, redelivered: false, contentType: 'application/json' },
      '{"a":[1,"x"]}',
    ],
    ['a JSON string re-encoded', { body: 'x', redelivered: false, contentType: 'application/json' }, '"x"'],
  ])('%s', (_, given, expected) => {
    expect(bodyBytes(given).toString('utf8')).toBe(expected);
  });
});

describe('buildCommandRejected', () => {
  it('passes on only ids the contracts accept', () => {
    const message = buildCommandRejected(
      {
        code: 'bad-signature',
        reason: 'x'.repeat(10_000),
        messageId: 'evil\u0000id',
        type: 'T'.repeat(500),
        correlationId: '',
        taskId: 'not-a-uuid',
        executionId: randomUUID(),
      },
      { nodeId: NODE, queueType: 'ExecuteTask' },
    );
    expect(message.payload).toMatchObject({
      commandMessageId: 'unknown',
      commandType: 'ExecuteTask',
      code: 'bad-signature',
    });
    expect(message.payload.taskId).toBeUndefined();
    expect(message.payload.executionId).toBeDefined();
    expect(message.payload.reason.length).toBeLessThan(10_000);
    expect(message.correlationId).toBe('unknown');
    expect(message).toMatchObject({ type: 'CommandRejected', nodeId: NODE, schemaVersion: 1 });
  });
});
