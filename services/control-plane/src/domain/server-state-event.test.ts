import { describe, expect, it } from 'vitest';
import { ServerStateChangedSchema } from '@meridian/contracts/api/node-server';
import { serverStateChangedEvent, serverStateEventId, type ServerStateChange } from './server-state-event.js';

const change: ServerStateChange = {
  orgId: 'o',
  nodeId: 'n',
  serverId: 'mc-1',
  previousState: 'starting',
  state: 'running',
  pid: 42,
  lastExitCode: null,
  lastExitSignal: null,
  restarts: 0,
  changedAt: new Date('2026-06-01T12:00:00.000Z'),
};

describe('serverStateEventId', () => {
  const id = serverStateEventId('o', 'mc-1', 'running', change.changedAt);

  it('is the same for the same change heard twice', () => {
    expect(serverStateEventId('o', 'mc-1', 'running', new Date(change.changedAt))).toBe(id);
  });

  it.each([
    ['another organisation', serverStateEventId('p', 'mc-1', 'running', change.changedAt)],
    ['another server', serverStateEventId('o', 'mc-2', 'running', change.changedAt)],
    ['another state', serverStateEventId('o', 'mc-1', 'stopped', change.changedAt)],
    ['another time', serverStateEventId('o', 'mc-1', 'running', new Date('2026-06-01T12:00:00.001Z'))],
    // The parts are delimited: ("o", "mc-1") and ("om", "c-1") are two servers.
    ['parts that concatenate alike', serverStateEventId('om', 'c-1', 'running', change.changedAt)],
  ])('differs for %s', (_name, other) => {
    expect(other).not.toBe(id);
  });
});

describe('serverStateChangedEvent', () => {
  it('is a valid server.state_changed body naming the change', () => {
    const body = ServerStateChangedSchema.parse(serverStateChangedEvent(change));
    expect(body).toMatchObject({
      name: 'server.state_changed',
      version: 1,
      occurredAt: '2026-06-01T12:00:00.000Z',
      serverId: 'mc-1',
      nodeId: 'n',
      previousState: 'starting',
      state: 'running',
      pid: 42,
    });
    expect(body.eventId).toBe(serverStateEventId('o', 'mc-1', 'running', change.changedAt));
  });

  it('has a null previous state for a server heard of the first time', () => {
    expect(serverStateChangedEvent({ ...change, previousState: null }).previousState).toBeNull();
  });
});
