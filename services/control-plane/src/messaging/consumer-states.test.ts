import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConsumerStates, NotConsumingError } from './consumer-states.js';

/** Behaves as rabbitmq-client's Consumer does towards its state: a tag while subscribed, 'ready' after each setup. */
class ConsumerDouble extends EventEmitter {
  consumerTag = '';
  subscribe(tag = 'amq.ctag-1'): void {
    this.consumerTag = tag;
    this.emit('ready');
  }
  lose(error?: Error): void {
    this.consumerTag = '';
    if (error) this.emit('error', error);
  }
}

const logger = pino({ level: 'silent' });

function tracked(...names: string[]) {
  const states = new ConsumerStates(logger);
  const consumers = Object.fromEntries(names.map((name) => [name, new ConsumerDouble()]));
  for (const name of names) states.track(name, consumers[name]!);
  return { states, consumers };
}

describe('ConsumerStates', () => {
  type Step = 'subscribe' | 'lose' | 'fail-setup' | 'error-while-consuming';
  it.each<[string, Step[], boolean]>([
    ['not yet set up', [], false],
    ['subscribed', ['subscribe'], true],
    ['channel or connection lost', ['subscribe', 'lose'], false],
    ['set up again after a loss', ['subscribe', 'lose', 'subscribe'], true],
    ['setup failing (e.g. queue declaration refused)', ['fail-setup', 'fail-setup'], false],
    ['a handler error while consuming', ['subscribe', 'error-while-consuming'], true],
  ])('%s → consuming %s', (_, steps, expected) => {
    const { states, consumers } = tracked('agent-events');
    const consumer = consumers['agent-events']!;
    for (const step of steps) {
      if (step === 'subscribe') consumer.subscribe();
      if (step === 'lose') consumer.lose(new Error('CONN_CLOSE'));
      if (step === 'fail-setup') consumer.emit('error', new Error('consumer setup failed'));
      if (step === 'error-while-consuming') consumer.emit('error', new Error('handler threw'));
    }
    expect(states.isConsuming('agent-events')).toBe(expected);
  });

  it('notices a loss it had no event for, between two checks', () => {
    const { states, consumers } = tracked('logs');
    consumers['logs']!.subscribe();
    expect(states.isConsuming('logs')).toBe(true);
    consumers['logs']!.consumerTag = '';
    expect(states.isConsuming('logs')).toBe(false);
  });

  it('names the consumers that do not consume, and gives a readiness check per consumer', async () => {
    const { states, consumers } = tracked('agent-events', 'logs', 'live-logs');
    consumers['agent-events']!.subscribe();
    consumers['live-logs']!.subscribe();
    expect(states.notConsuming()).toEqual(['logs']);
    const checks = states.readinessChecks();
    expect(Object.keys(checks)).toEqual(['consumer:agent-events', 'consumer:logs', 'consumer:live-logs']);
    await expect(checks['consumer:agent-events']!()).resolves.toBeUndefined();
    await expect(checks['consumer:logs']!()).rejects.toBeInstanceOf(NotConsumingError);
    consumers['logs']!.subscribe();
    await expect(checks['consumer:logs']!()).resolves.toBeUndefined();
  });

  it('does not know an untracked consumer', () => {
    expect(new ConsumerStates(logger).isConsuming('nobody')).toBe(false);
  });
});
