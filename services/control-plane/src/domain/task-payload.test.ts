import { describe, expect, it } from 'vitest';
import { payloadIssues } from './task-payload.js';

describe('payloadIssues', () => {
  it.each([
    ['a valid ServerStart', 'ServerStart', { spec: { argv: ['java', '-jar', 'server.jar'] } }, []],
    ['a ServerStart without spec (a kept spec is used)', 'ServerStart', {}, []],
    ['a ServerStart whose spec has no argv', 'ServerStart', { spec: {} }, ['payload.spec.argv']],
    ['a ServerStart whose argv is empty', 'ServerStart', { spec: { argv: [] } }, ['payload.spec.argv']],
    [
      'a working directory escaping the server directory',
      'ServerStart',
      { spec: { argv: ['x'], workingDirectory: '../other' } },
      ['payload.spec.workingDirectory'],
    ],
    [
      'a bad ready pattern',
      'ServerStart',
      { spec: { argv: ['x'], readyPattern: '(' } },
      ['payload.spec.readyPattern'],
    ],
    [
      'a ready pattern RE2 cannot match in linear time (a backreference)',
      'ServerStart',
      { spec: { argv: ['x'], readyPattern: '(a+)\\1' } },
      ['payload.spec.readyPattern'],
    ],
    [
      'a seed-style ready pattern',
      'ServerStart',
      { spec: { argv: ['x'], readyPattern: 'Done \\(.*\\)! For help' } },
      [],
    ],
    ['a Command as argv', 'Command', { command: ['ls', '-l'] }, []],
    ['a Command string without shell', 'Command', { command: 'ls -l' }, ['payload.command']],
    ['a Command without command', 'Command', {}, ['payload.command']],
    ['an Echo with anything', 'Echo', { words: ['a'], n: 1 }, []],
    ['an Echo with a bad delay', 'Echo', { delayMs: -1 }, ['payload.delayMs']],
    ['a ServerCommand of two lines', 'ServerCommand', { command: 'say a\nsay b' }, ['payload.command']],
    ['a type the registry does not know', 'Reindex', { anything: true }, []],
    ['a type named like an Object property', 'constructor', {}, []],
  ])('%s', (_name, type, payload, fields) => {
    expect(payloadIssues(type, payload).map((issue) => issue.field)).toEqual(fields);
  });

  it('says what is wrong', () => {
    expect(payloadIssues('Command', { command: 'ls' })[0]?.message).toMatch(/shell/);
  });
});
