import { describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import {
  boundedSyncError,
  nextCredentialSyncAt,
  planCredentialSync,
  SYNC_ERROR_MAX_LENGTH,
} from './credential-sync.js';

const t = topology('acme');
const state = { nodeId: 'web-1', brokerUsername: 'acme.node.web-1', passwordHash: 'HASH' };

describe('planCredentialSync', () => {
  it('declares and binds the node’s queues, then puts its user and permissions', () => {
    expect(planCredentialSync({ ...state, revoked: false }, t)).toEqual([
      { kind: 'declare-queue', queue: 'acme.node.web-1.work', arguments: { 'x-queue-type': 'classic' } },
      {
        kind: 'bind-queue',
        exchange: 'acme.commands',
        queue: 'acme.node.web-1.work',
        routingKey: 'node.web-1.work',
      },
      { kind: 'declare-queue', queue: 'acme.node.web-1.control', arguments: { 'x-queue-type': 'classic' } },
      {
        kind: 'bind-queue',
        exchange: 'acme.commands',
        queue: 'acme.node.web-1.control',
        routingKey: 'node.web-1.control',
      },
      { kind: 'put-user', username: 'acme.node.web-1', passwordHash: 'HASH' },
      {
        kind: 'put-permissions',
        username: 'acme.node.web-1',
        configure: '^$',
        write: '^(acme\\.agent-events|acme\\.logs)$',
        read: '^(acme\\.node\\.web-1\\.work|acme\\.node\\.web-1\\.control)$',
      },
      {
        kind: 'put-topic-permissions',
        username: 'acme.node.web-1',
        exchange: 'acme.agent-events',
        write: '^{username}\\.[A-Za-z0-9_-]+$',
        read: '^$',
      },
      {
        kind: 'put-topic-permissions',
        username: 'acme.node.web-1',
        exchange: 'acme.logs',
        write: '^{username}\\.logs$',
        read: '^$',
      },
    ]);
  });

  it('deletes a revoked node’s user first, then closes what is left, then deletes its queues', () => {
    expect(planCredentialSync({ ...state, revoked: true }, t)).toEqual([
      { kind: 'delete-user', username: 'acme.node.web-1' },
      { kind: 'close-connections', username: 'acme.node.web-1' },
      { kind: 'delete-queue', queue: 'acme.node.web-1.work' },
      { kind: 'delete-queue', queue: 'acme.node.web-1.control' },
    ]);
  });
});

describe('nextCredentialSyncAt', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  it.each([
    // failures, random → delay ms
    [1, 0, 500],
    [1, 0.999_999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [7, 0, 30_000],
    [7, 1, 60_000],
    [50, 1, 60_000],
  ])('after %i failures with random %d: +%i ms', (failures, random, delayMs) => {
    expect(nextCredentialSyncAt(now, failures, random).getTime() - now.getTime()).toBe(delayMs);
  });
});

describe('boundedSyncError', () => {
  it.each([
    ['short', 'short'],
    ['x'.repeat(SYNC_ERROR_MAX_LENGTH), 'x'.repeat(SYNC_ERROR_MAX_LENGTH)],
    ['x'.repeat(SYNC_ERROR_MAX_LENGTH + 1), `${'x'.repeat(SYNC_ERROR_MAX_LENGTH - 1)}…`],
  ])('keeps at most the limit', (message, expected) => {
    expect(boundedSyncError(message)).toBe(expected);
  });
});
