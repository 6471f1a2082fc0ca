import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { refusal } from './file-task-error.js';

/*
 * Paths from a payload are relative to a server's directory and never leave it: not by "..", not
 * by an absolute path, and not through a symbolic link inside the directory that points out of it.
 */

/**
 * The segments of a relative path, "." and empty segments dropped ("." alone is the directory
 * itself: no segments). Throws a refusal naming `field` for anything that could leave the root.
 */
export function pathSegments(path: string, field: string): string[] {
  if (path.includes('\0')) throw refusal(`${field} must not contain NUL`);
  if (path.includes('\\')) throw refusal(`${field} "${path}": use "/" as the separator`);
  if (path.startsWith('/')) throw refusal(`${field} "${path}" must be relative to the server directory`);
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw refusal(`${field} "${path}" must not contain a ".." segment`);
  return segments;
}

/** True when `candidate` (absolute, normalised) is `root` or below it. */
export function isInsideDirectory(root: string, candidate: string): boolean {
  const rest = relative(root, candidate);
  return rest === '' || (!isAbsolute(rest) && rest !== '..' && !rest.startsWith('../'));
}

/**
 * `<root>/<path>` after checking every component that exists: a symbolic link among them must lead
 * to a place inside the root (its real path). Components that do not exist yet are fine (they
 * will be created as plain directories or files). The root itself must exist.
 */
export function resolveInside(root: string, path: string, field: string): string {
  const segments = pathSegments(path, field);
  const realRoot = realpathSync(root);
  let current = root;
  for (const segment of segments) {
    current = join(current, segment);
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
    if (isLink && !isInsideDirectory(realRoot, realPathOrTarget(current))) {
      throw refusal(`${field} "${path}" leads out of the server directory through a symbolic link`);
    }
  }
  return join(root, ...segments);
}

/** Creates `<root>/<path>` as a directory (and its parents), refusing a way out as `resolveInside` does. */
export function ensureDirectoryInside(root: string, path: string, field: string): string {
  mkdirSync(root, { recursive: true });
  const target = resolveInside(root, path, field);
  mkdirSync(target, { recursive: true });
  // Checked again: a link swapped in meanwhile would show now.
  resolveInside(root, path, field);
  return target;
}

/**
 * Where a link leads. A dangling one counts as outside: writing through it would create its
 * target wherever it names.
 */
function realPathOrTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return '/';
  }
}
