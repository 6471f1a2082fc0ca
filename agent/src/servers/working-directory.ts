import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isInsideDirectory(parent: string, child: string): boolean {
  const path = relative(parent, child);
  return path === '' || (!isAbsolute(path) && path !== '..' && !path.startsWith(`..${sep}`));
}

/**
 * The directory a server runs in: `workingDirectory` (relative, "." by default) inside its
 * directory `serverDir`, both created if missing. Each component is checked as it is walked, so
 * that a symbolic link leading out of the server's directory is refused before anything is created
 * through it. Throws an error naming the path.
 */
export function prepareWorkingDirectory(serverDir: string, workingDirectory: string): string {
  mkdirSync(serverDir, { recursive: true, mode: 0o750 });
  const root = realpathSync(serverDir);
  const parts = workingDirectory.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new Error(`spec.workingDirectory "${workingDirectory}" must not contain a ".." segment`);
  }
  let current = root;
  for (const part of parts) {
    const next = join(current, part);
    if (!exists(next)) mkdirSync(next, { mode: 0o750 });
    const real = realpathSync(next);
    if (!isInsideDirectory(root, real)) {
      throw new Error(
        `spec.workingDirectory "${workingDirectory}" leaves the server directory (through a symbolic link)`,
      );
    }
    if (!lstatSync(real).isDirectory()) {
      throw new Error(`spec.workingDirectory "${workingDirectory}" is not a directory`);
    }
    current = real;
  }
  return current;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
