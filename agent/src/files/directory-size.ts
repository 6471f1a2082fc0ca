import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes of the regular files under `dir` (links not followed), leaving out what `isExcluded` says
 * (paths relative to `dir`); an excluded directory is not entered. For progress: a backup's total.
 */
export async function directoryBytes(dir: string, isExcluded: (path: string) => boolean): Promise<number> {
  let total = 0;
  const pending = [''];
  for (let relative = pending.pop(); relative !== undefined; relative = pending.pop()) {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (isExcluded(path)) continue;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) total += (await lstat(join(dir, path))).size;
    }
  }
  return total;
}
