import { createReadStream } from 'node:fs';
import { extract } from 'tar';
import type { ArchiveLimits } from './archive-entry-policy.js';
import { inspectArchive, type ArchiveSummary } from './archive-inspect.js';
import { abortError, describeError, refusal } from './file-task-error.js';

/**
 * Unpacks a tar.gz that `inspectArchive` has accepted into `directory` (which exists). node-tar's
 * own guards stay on (no absolute or ".." paths, nothing written through a symbolic link), strict
 * mode turns any of its warnings into a failure, owners are not restored, and an existing file
 * is unlinked before being written so that a link in its place is replaced, not followed.
 */
export async function extractArchive(
  file: string,
  directory: string,
  options: { stripComponents: number; signal: AbortSignal; onEntry?: (bytes: number) => void },
): Promise<void> {
  const source = createReadStream(file);
  const unpack = extract({
    cwd: directory,
    strip: options.stripComponents,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    unlink: true,
    onReadEntry: (entry) => options.onEntry?.(entry.size),
  });
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      if (error === undefined) return resolve();
      source.destroy();
      reject(error);
    };
    const onAbort = () => {
      settle(abortError(options.signal));
      unpack.abort(new Error('aborted'));
    };
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    unpack.on('error', (error: unknown) =>
      settle(refusal(`could not unpack the archive: ${describeError(error)}`, error)),
    );
    unpack.on('close', () => settle());
    source.on('error', (error) => settle(error));
    source.pipe(unpack);
  });
}

/**
 * Inspects, then unpacks: a refused archive writes nothing. Returns what the inspection counted;
 * `onProgress` gets the bytes unpacked so far and the declared total.
 */
export async function unpackArchive(
  file: string,
  directory: string,
  options: ArchiveLimits & {
    stripComponents: number;
    signal: AbortSignal;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<ArchiveSummary> {
  const summary = await inspectArchive(file, options);
  let done = 0;
  await extractArchive(file, directory, {
    stripComponents: options.stripComponents,
    signal: options.signal,
    onEntry: (bytes) => {
      done += bytes;
      options.onProgress?.(done, summary.bytes);
    },
  });
  return summary;
}
