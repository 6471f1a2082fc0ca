import { createReadStream } from 'node:fs';
import { list, type ReadEntry } from 'tar';
import { createEntryChecker, type ArchiveLimits } from './archive-entry-policy.js';
import { abortError, describeError, refusal } from './file-task-error.js';

export interface ArchiveSummary {
  entries: number;
  /** Declared bytes of all entries. */
  bytes: number;
}

/**
 * Reads every header of a (gzipped) tar before anything is unpacked and refuses the whole archive
 * on the first entry `createEntryChecker` refuses, or when it is not a valid archive. Stops
 * reading at the first refusal, so an archive bomb is not read to its end.
 */
export async function inspectArchive(
  file: string,
  options: ArchiveLimits & { stripComponents: number; signal: AbortSignal },
): Promise<ArchiveSummary> {
  const checker = createEntryChecker(options, options.stripComponents);
  const source = createReadStream(file);
  const parser = list({ strict: true });
  return new Promise<ArchiveSummary>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      if (error === undefined) return resolve(checker.counts());
      source.destroy();
      reject(error);
    };
    const onAbort = () => settle(abortError(options.signal));
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });

    parser.on('entry', (entry: ReadEntry) => {
      const reason = checker.check({
        path: entry.path,
        type: entry.type,
        size: entry.size,
        ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
      });
      if (reason !== undefined) settle(refusal(`hostile archive refused: entry "${entry.path}" ${reason}`));
    });
    parser.on('error', (error: unknown) =>
      settle(refusal(`not a valid tar.gz archive: ${describeError(error)}`, error)),
    );
    parser.on('end', () => settle());
    source.on('error', (error) => settle(error));
    source.pipe(parser);
  });
}
