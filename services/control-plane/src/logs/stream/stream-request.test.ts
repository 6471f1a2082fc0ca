import { describe, expect, it } from 'vitest';
import {
  bearerSubprotocol,
  parseStreamRequest,
  parseSubprotocols,
  streamCredential,
} from './stream-request.js';

const id = '6f1c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
const path = `/api/v1/tasks/executions/${id}/logs/stream`;

describe('parseStreamRequest', () => {
  it.each([
    [path, { kind: 'stream', executionId: id, after: 0 }],
    [`${path}/`, { kind: 'stream', executionId: id, after: 0 }],
    [`${path}?after=`, { kind: 'stream', executionId: id, after: 0 }],
    [`${path}?after=42`, { kind: 'stream', executionId: id, after: 42 }],
    [`${path}?after=0&other=1`, { kind: 'stream', executionId: id, after: 0 }],
  ])('reads %s', (url, expected) => {
    expect(parseStreamRequest(url)).toEqual(expected);
  });

  it.each(['-1', '1.5', 'abc', '1e3', '99999999999', '2147483648'])('refuses after=%s', (after) => {
    expect(parseStreamRequest(`${path}?after=${after}`)).toMatchObject({
      kind: 'bad-after',
      executionId: id,
    });
  });

  it('answers a non-UUID id as an unknown execution', () => {
    expect(parseStreamRequest('/api/v1/tasks/executions/nope/logs/stream')).toEqual({
      kind: 'unknown-execution',
      executionId: 'nope',
    });
  });

  it('answers a badly escaped id as an unknown execution', () => {
    expect(parseStreamRequest('/api/v1/tasks/executions/%E0%A4%A/logs/stream')).toMatchObject({
      kind: 'unknown-execution',
    });
  });

  it.each([undefined, '/', '/api/v1/tasks', `/api/v1/tasks/executions/${id}/logs`, `${path}/more`])(
    'leaves %s to others',
    (url) => {
      expect(parseStreamRequest(url)).toEqual({ kind: 'not-a-stream' });
    },
  );
});

describe('subprotocols', () => {
  it('splits a header, or repeated headers, on commas and trims', () => {
    expect(parseSubprotocols(' a , bearer.x.y.z,b ')).toEqual(['a', 'bearer.x.y.z', 'b']);
    expect(parseSubprotocols(['a', 'b, c'])).toEqual(['a', 'b', 'c']);
    expect(parseSubprotocols(undefined)).toEqual([]);
  });

  it('selects the first non-empty bearer protocol', () => {
    expect(bearerSubprotocol(['meridian', 'bearer.', 'bearer.t1', 'bearer.t2'])).toBe('bearer.t1');
    expect(bearerSubprotocol(new Set(['meridian']))).toBeUndefined();
  });
});

describe('streamCredential', () => {
  it('takes the Authorization header first', () => {
    expect(streamCredential('Bearer h', 'bearer.p')).toBe('Bearer h');
  });

  it('takes the token of a bearer subprotocol otherwise', () => {
    expect(streamCredential(undefined, 'meridian.logs, bearer.eyJ.a.b')).toBe('eyJ.a.b');
    expect(streamCredential('  ', 'bearer.t')).toBe('t');
  });

  it('has nothing when neither is given', () => {
    expect(streamCredential(undefined, 'meridian.logs')).toBeUndefined();
    expect(streamCredential(undefined, undefined)).toBeUndefined();
  });
});
