import { describe, expect, it } from 'vitest';
import { decodeEventCursor, encodeEventCursor, type EventScope } from './event-cursor.js';

const task: EventScope = { kind: 'task', orgId: 'org-a', taskId: '0b7c6f1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f' };
const otherTask: EventScope = { ...task, taskId: '1b7c6f1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f' };
const org: EventScope = { kind: 'org', orgId: 'org-a' };
const otherOrg: EventScope = { kind: 'org', orgId: 'org-b' };
const filter = '[null,null,null,null]';
const otherFilter = '[["TaskCreated"],null,null,null]';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('event cursors', () => {
  it.each([
    [task, { id: '42', txId: null }],
    [org, { id: '42', txId: '1000' }],
    [org, { id: '9223372036854775807', txId: '18446744073709551615' }],
  ])('decode to their position for the query they came from (%j)', (scope, position) => {
    expect(decodeEventCursor(encodeEventCursor(scope, filter, position), scope, filter)).toEqual(position);
  });

  const taskCursor = encodeEventCursor(task, filter, { id: '42', txId: null });
  const orgCursor = encodeEventCursor(org, filter, { id: '42', txId: '1000' });
  const [version, txId, , check] = Buffer.from(orgCursor, 'base64url').toString().split('.');

  it.each([
    ['another task', taskCursor, otherTask, filter],
    ['the org feed, for a task cursor', taskCursor, org, filter],
    ['a task, for an org cursor', orgCursor, task, filter],
    ['another organisation', orgCursor, otherOrg, filter],
    ['other filters', orgCursor, org, otherFilter],
    ['a changed id', b64(`${version}.${txId}.43.${check}`), org, filter],
    ['a changed transaction', b64(`${version}.1001.42.${check}`), org, filter],
    ['another version', b64(`2.${txId}.42.${check}`), org, filter],
    ['a changed last character', orgCursor.slice(0, -1) + (orgCursor.endsWith('A') ? 'B' : 'A'), org, filter],
    ['a truncated cursor', orgCursor.slice(0, 10), org, filter],
    ['text that is no cursor', b64('hello'), org, filter],
    ['an empty string', '', org, filter],
    ['an id past bigint', b64(`1.1.9223372036854775808.${check}`), org, filter],
  ])('refuse a cursor used on %s', (_, cursor, scope, filterKey) => {
    expect(decodeEventCursor(cursor, scope, filterKey)).toBeNull();
  });
});
