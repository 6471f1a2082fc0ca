import { describe, expect, it } from 'vitest';
import { FileTaskError } from './file-task-error.js';
import { isInsideDirectory, pathSegments } from './safe-path.js';

describe('pathSegments', () => {
  it.each([
    ['.', []],
    ['plugins', ['plugins']],
    ['./world//region/', ['world', 'region']],
    ['a/./b', ['a', 'b']],
    ['..hidden/x', ['..hidden', 'x']],
  ])('%j → %j', (path, expected) => {
    expect(pathSegments(path, 'payload.path')).toEqual(expected);
  });

  it.each([
    ['../evil', /payload\.path "\.\.\/evil" must not contain a "\.\." segment/],
    ['world/../../evil', /"\.\." segment/],
    ['/etc/passwd', /payload\.path "\/etc\/passwd" must be relative/],
    ['a\\..\\b', /use "\/" as the separator/],
    ['a\0b', /must not contain NUL/],
  ])('refuses %j naming the field', (path, message) => {
    let thrown: unknown;
    try {
      pathSegments(path, 'payload.path');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FileTaskError);
    expect((thrown as FileTaskError).retryable).toBe(false);
    expect((thrown as FileTaskError).message).toMatch(message);
  });
});

describe('isInsideDirectory', () => {
  it.each([
    ['/srv/alpha', '/srv/alpha', true],
    ['/srv/alpha', '/srv/alpha/world/level.dat', true],
    ['/srv/alpha', '/srv/alpha/..hidden', true],
    ['/srv/alpha', '/srv/alphabet', false],
    ['/srv/alpha', '/srv', false],
    ['/srv/alpha', '/etc/passwd', false],
    ['/', '/anything', true],
  ])('%j contains %j: %s', (root, candidate, expected) => {
    expect(isInsideDirectory(root, candidate)).toBe(expected);
  });
});
