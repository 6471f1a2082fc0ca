import { describe, expect, it } from 'vitest';
import {
  decidePlacement,
  placementLookup,
  targetIssues,
  type PlacementDecision,
  type PlacementRequest,
} from './task-placement.js';

const SPEC = { argv: ['node', 'server.js'] };
const server = (type: string, overrides: Partial<PlacementRequest> = {}): PlacementRequest => ({
  type,
  targetType: 'Server',
  targetId: 'mc-1',
  payload: {},
  ...overrides,
});
const onNode = (type: string, overrides: Partial<PlacementRequest> = {}): PlacementRequest => ({
  type,
  targetType: 'Node',
  targetId: 'n1',
  payload: {},
  ...overrides,
});
const facts = (serverHost: string | null, orgNodes: string[] = ['n1', 'n2']) => ({
  serverHost,
  orgNodes: new Set(orgNodes),
});
const pinned = (nodeId: string, assignServer = false): PlacementDecision => ({
  kind: 'pinned',
  nodeId,
  assignServer,
});
const refused = (field: string, message: RegExp) => ({
  kind: 'refused',
  field,
  message: expect.stringMatching(message) as unknown as string,
});

describe('decidePlacement', () => {
  it.each([
    ['a Server task goes to the hosting node', server('ServerStop'), facts('n2'), pinned('n2')],
    ['… also when nodeId names that node', server('ServerStop', { nodeId: 'n2' }), facts('n2'), pinned('n2')],
    [
      '… a ServerStart of a hosted server too (no spec needed)',
      server('ServerStart'),
      facts('n1'),
      pinned('n1'),
    ],
    [
      'a nodeId other than the host is refused',
      server('ServerCommand', { nodeId: 'n1' }),
      facts('n2'),
      refused('nodeId', /server mc-1 is hosted on node n2/),
    ],
    [
      'a new server is placed by its first ServerStart on the named node',
      server('ServerStart', { nodeId: 'n1', payload: { spec: SPEC } }),
      facts(null),
      pinned('n1', true),
    ],
    [
      '… or its first ServerRestart',
      server('ServerRestart', { nodeId: 'n1', payload: { spec: SPEC } }),
      facts(null),
      pinned('n1', true),
    ],
    [
      'a new server without nodeId is refused',
      server('ServerStart', { payload: { spec: SPEC } }),
      facts(null),
      refused('nodeId', /no node hosts server mc-1 yet: give nodeId/),
    ],
    [
      'a new server on a node not of the organisation is refused',
      server('ServerStart', { nodeId: 'elsewhere', payload: { spec: SPEC } }),
      facts(null),
      refused('nodeId', /node elsewhere is not a node of your organisation/),
    ],
    [
      'a new server without a spec is refused',
      server('ServerStart', { nodeId: 'n1' }),
      facts(null),
      refused('payload.spec', /needs payload.spec/),
    ],
    [
      'any other task on a server no node hosts is refused',
      server('Backup', { nodeId: 'n1' }),
      facts(null),
      refused('targetId', /no node hosts server mc-1/),
    ],
    ['a non-server type may target a hosted server too', server('Command'), facts('n1'), pinned('n1')],
    ['a Node task is pinned to its node', onNode('Command'), facts(null), pinned('n1')],
    ['… with nodeId naming the same node', onNode('Command', { nodeId: 'n1' }), facts(null), pinned('n1')],
    [
      'a Node task naming another nodeId is refused',
      onNode('Command', { nodeId: 'n2' }),
      facts(null),
      refused('nodeId', /runs there/),
    ],
    [
      'a Node task on a node not of the organisation is refused',
      onNode('Echo', { targetId: 'n9' }),
      facts(null),
      refused('targetId', /node n9 is not a node of your organisation/),
    ],
    [
      'any other target goes anywhere, as before',
      { type: 'Echo', targetType: 'Service', targetId: 'svc', payload: {} },
      facts(null, []),
      { kind: 'unchanged', nodeId: null },
    ],
    [
      '… or to the nodeId it names, unchecked, as before',
      { type: 'Echo', targetType: 'Service', targetId: 'svc', nodeId: 'n7', payload: {} },
      facts(null, []),
      { kind: 'unchanged', nodeId: 'n7' },
    ],
  ])('%s', (_name, request, known, expected) => {
    expect(decidePlacement(request, known)).toEqual(expected);
  });
});

describe('targetIssues', () => {
  it.each([
    ['a server task on a Server', server('ServerStart'), []],
    ['a server task on a Node', onNode('ServerStart'), ['targetType']],
    ['a server task on anything else', { ...server('Backup'), targetType: 'server' }, ['targetType']],
    [
      'a Server with a UUID id',
      server('ServerStop', { targetId: '123e4567-e89b-12d3-a456-426614174000' }),
      [],
    ],
    ['a Server id with a slash', server('ServerStop', { targetId: 'a/b' }), ['targetId']],
    ['a Server id of ".."', server('ServerStop', { targetId: '..' }), ['targetId']],
    ['a Server id starting with "-"', server('Command', { targetId: '-rf' }), ['targetId']],
    ['a Command on a Node', onNode('Command'), []],
    ['an unknown type on any target', { type: 'Custom2', targetType: 'X', targetId: 'a/b', payload: {} }, []],
  ])('%s', (_name, request, fields) => {
    expect(targetIssues(request).map((issue) => issue.field)).toEqual(fields);
  });
});

describe('placementLookup', () => {
  it.each([
    [
      'a Server task: its server and the nodeId',
      server('ServerStart', { nodeId: 'n1' }),
      { serverId: 'mc-1', nodeIds: ['n1'] },
    ],
    ['a Server task without nodeId', server('ServerStop'), { serverId: 'mc-1', nodeIds: [] }],
    ['a Node task: its node', onNode('Command'), { serverId: null, nodeIds: ['n1'] }],
    ['another target: nothing', { type: 'Echo', targetType: 'Service', targetId: 's', payload: {} }, null],
  ])('%s', (_name, request, expected) => {
    expect(placementLookup(request)).toEqual(expected);
  });
});
