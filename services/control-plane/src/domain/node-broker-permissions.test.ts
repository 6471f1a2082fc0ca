import { describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import { escapeRegExp, nodeBrokerPermissions } from './node-broker-permissions.js';

describe('nodeBrokerPermissions', () => {
  const permissions = nodeBrokerPermissions(topology('acme.prod'), 'web-1');

  it('names the user after the prefix and node id', () => {
    expect(permissions.username).toBe('acme.prod.node.web-1');
  });

  it('gives the least rights RabbitMQ can express', () => {
    expect(permissions).toEqual({
      username: 'acme.prod.node.web-1',
      configure: '^$',
      write: '^(acme\\.prod\\.agent-events|acme\\.prod\\.logs)$',
      read: '^(acme\\.prod\\.node\\.web-1\\.work|acme\\.prod\\.node\\.web-1\\.control)$',
      topic: [
        { exchange: 'acme.prod.agent-events', write: '^{username}\\.[A-Za-z0-9_-]+$', read: '^$' },
        { exchange: 'acme.prod.logs', write: '^{username}\\.logs$', read: '^$' },
      ],
    });
  });

  const read = new RegExp(permissions.read);
  const write = new RegExp(permissions.write);
  it.each([
    [read, 'acme.prod.node.web-1.work', true],
    [read, 'acme.prod.node.web-1.control', true],
    [read, 'acme.prod.node.web-2.work', false],
    [read, 'acme.prod.node.web-1.work2', false],
    [read, 'acmeXprod.node.web-1.work', false],
    [read, 'acme.prod.commands', false],
    [write, 'acme.prod.agent-events', true],
    [write, 'acme.prod.logs', true],
    [write, 'acme.prod.commands', false],
    [write, 'acme.prod.logs.live', false],
    [write, '', false],
  ])('%s matches %j: %s', (pattern, name, expected) => {
    expect(pattern.test(name)).toBe(expected);
  });

  // The broker expands {username} as is (dots and all) before matching.
  const topicWrite = (exchangeIndex: number) =>
    new RegExp(permissions.topic[exchangeIndex]!.write.replace('{username}', permissions.username));
  it.each([
    [0, 'acme.prod.node.web-1.TaskCompleted', true],
    [0, 'acme.prod.node.web-1.AgentHeartbeat', true],
    [0, 'acme.prod.node.web-2.TaskCompleted', false],
    [0, 'acme.prod.node.web-1.x.TaskCompleted', false],
    [0, 'TaskCompleted', false],
    [0, 'node.web-1', false],
    [1, 'acme.prod.node.web-1.logs', true],
    [1, 'acme.prod.node.web-2.logs', false],
    [1, 'node.web-1', false],
  ])('topic write on exchange %i matches %j: %s', (index, key, expected) => {
    expect(topicWrite(index).test(key)).toBe(expected);
  });
});

describe('escapeRegExp', () => {
  it.each([
    ['a.b', 'a\\.b'],
    ['a+b*c?', 'a\\+b\\*c\\?'],
    ['(x)|[y]{z}^$\\', '\\(x\\)\\|\\[y\\]\\{z\\}\\^\\$\\\\'],
    ['plain-name_1', 'plain-name_1'],
  ])('%j → %j', (text, expected) => {
    expect(escapeRegExp(text)).toBe(expected);
  });
});
