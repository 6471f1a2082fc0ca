import { describe, expect, it } from 'vitest';
import type { ServerReport } from '@meridian/contracts/task-types/server-spec';
import { newestServerReports } from './server-reports.js';

const report = (
  serverId: string,
  changedAt: string,
  state: ServerReport['state'] = 'running',
): ServerReport => ({
  serverId,
  state,
  pid: 10,
  startedAt: null,
  lastExitCode: null,
  restarts: 0,
  changedAt,
});
const T1 = '2026-06-01T12:00:00.000Z';
const T2 = '2026-06-01T12:00:05.000Z';

describe('newestServerReports', () => {
  it.each([
    ['no heartbeat', [], []],
    ['a heartbeat without servers (an older agent)', [{ orgId: 'o', nodeId: 'n1' }], []],
    [
      'every server of every node, ordered by organisation then server id',
      [
        { orgId: 'o2', nodeId: 'n2', servers: [report('a', T1)] },
        { orgId: 'o1', nodeId: 'n1', servers: [report('b', T1), report('a', T1)] },
      ],
      [
        ['o1', 'a', 'n1', 'running'],
        ['o1', 'b', 'n1', 'running'],
        ['o2', 'a', 'n2', 'running'],
      ],
    ],
    [
      'a server reported twice: the later change wins, whichever heartbeat came first',
      [
        { orgId: 'o', nodeId: 'n1', servers: [report('a', T2, 'crashed')] },
        { orgId: 'o', nodeId: 'n1', servers: [report('a', T1, 'running')] },
      ],
      [['o', 'a', 'n1', 'crashed']],
    ],
    [
      'a server that moved: the node that reported the later change',
      [
        { orgId: 'o', nodeId: 'old', servers: [report('a', T1, 'stopped')] },
        { orgId: 'o', nodeId: 'new', servers: [report('a', T2, 'running')] },
      ],
      [['o', 'a', 'new', 'running']],
    ],
    [
      'the same change twice: the later heartbeat',
      [
        { orgId: 'o', nodeId: 'n1', servers: [report('a', T1)] },
        { orgId: 'o', nodeId: 'n2', servers: [report('a', T1)] },
      ],
      [['o', 'a', 'n2', 'running']],
    ],
    [
      'one server id in two organisations: two servers',
      [
        { orgId: 'o1', nodeId: 'n1', servers: [report('a', T1)] },
        { orgId: 'o2', nodeId: 'n2', servers: [report('a', T2)] },
      ],
      [
        ['o1', 'a', 'n1', 'running'],
        ['o2', 'a', 'n2', 'running'],
      ],
    ],
    [
      'byte order, as PostgreSQL’s COLLATE "C" locks them',
      [{ orgId: 'o', nodeId: 'n', servers: [report('b', T1), report('B', T1), report('a', T1)] }],
      [
        ['o', 'B', 'n', 'running'],
        ['o', 'a', 'n', 'running'],
        ['o', 'b', 'n', 'running'],
      ],
    ],
  ] as const)('%s', (_name, beats, expected) => {
    expect(newestServerReports(beats).map((s) => [s.orgId, s.serverId, s.nodeId, s.state])).toEqual(expected);
  });
});
