import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '../state/durable-file.js';
import { FileTaskError, describeError, refusal } from './file-task-error.js';
import type { ByteProgress } from './progress.js';
import { describeUrl, isRetryableStatus } from './transfer-url.js';

export interface DownloadRequest {
  url: string;
  headers: Record<string, string>;
  /** Expected SHA-256, lower-case hex. */
  sha256: string;
  /** Absolute; its directory exists and was checked. Replaced atomically once verified. */
  destination: string;
  /** Makes the partial file's name unique to this execution: `.<name>.part-<partId>`. */
  partId: string;
  maxBytes: number;
  signal: AbortSignal;
  progress?: ByteProgress;
  /** How many times a broken-off transfer is taken up again (with Range when the server allows). */
  maxResumes?: number;
}

export interface DownloadResult {
  sizeBytes: number;
  sha256: string;
  /** True when a broken-off transfer went on from where it stopped (HTTP Range). */
  resumed: boolean;
}

const DEFAULT_MAX_RESUMES = 3;

export function partialFileOf(destination: string, partId: string): string {
  return join(dirname(destination), `.${basename(destination)}.part-${partId}`);
}

/**
 * Downloads `url` to `destination`: streamed to a partial file beside it while hashing, checked
 * against the size limit and the checksum, then renamed into place. The partial file is removed
 * on any failure or abort, so nothing half-written is ever left under the final name or beside it.
 */
export async function downloadFile(request: DownloadRequest): Promise<DownloadResult> {
  const part = partialFileOf(request.destination, request.partId);
  await removeStalePartials(request.destination);
  const file = await open(
    part,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    const received = await receive(request, file);
    if (received.sha256 !== request.sha256) {
      throw refusal(
        `checksum mismatch for ${describeUrl(request.url)}: payload.sha256 is ${request.sha256}, the download's is ${received.sha256}`,
      );
    }
    await file.datasync();
    await file.close();
    await rename(part, request.destination);
    syncDirectory(dirname(request.destination));
    return received;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(part, { force: true });
    throw error;
  }
}

/** Writes the body into `file` from offset 0, taking a broken-off transfer up again a few times. */
async function receive(request: DownloadRequest, file: FileHandle): Promise<DownloadResult> {
  const where = describeUrl(request.url);
  const maxResumes = request.maxResumes ?? DEFAULT_MAX_RESUMES;
  let hash = createHash('sha256');
  let have = 0;
  let acceptsRanges = false;
  let resumed = false;

  for (let attempt = 0; ; attempt++) {
    const asRange = have > 0 && acceptsRanges;
    const response = await send(request, asRange ? { Range: `bytes=${have}-` } : {});
    if (asRange && response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      if (Number(start) !== have)
        throw new FileTaskError(`${where} answered a range from ${start}, not ${have}`, true);
      resumed = true;
    } else if (have > 0) {
      // No range (or a 200 to one): the whole body comes again, so start over.
      hash = createHash('sha256');
      have = 0;
      await file.truncate(0);
    }
    if (attempt === 0) acceptsRanges = response.headers.get('accept-ranges')?.toLowerCase() === 'bytes';

    const length = response.headers.get('content-length');
    const total = length === null ? undefined : have + Number(length);
    if (total !== undefined && total > request.maxBytes) {
      await response.body?.cancel();
      throw refusal(`${where} is ${total} bytes, more than the limit of ${request.maxBytes}`);
    }
    try {
      for await (const chunk of response.body ?? []) {
        const bytes = chunk as Uint8Array;
        if (have + bytes.length > request.maxBytes)
          throw refusal(`${where} is more than the limit of ${request.maxBytes} bytes`);
        hash.update(bytes);
        await file.write(bytes, 0, bytes.length, have);
        have += bytes.length;
        request.progress?.update(have, total);
      }
      return { sizeBytes: have, sha256: hash.digest('hex'), resumed };
    } catch (error) {
      if (request.signal.aborted || error instanceof FileTaskError) throw error;
      if (attempt >= maxResumes) {
        throw new FileTaskError(
          `download from ${where} broke off after ${have} bytes (${attempt + 1} attempts): ${describeError(error)}`,
          true,
          { cause: error },
        );
      }
    }
  }
}

/**
 * Partial files of the same destination left by an agent that died mid-download (the callers hold
 * the server's queue: no other download of it runs).
 */
async function removeStalePartials(destination: string): Promise<void> {
  const prefix = `.${basename(destination)}.part-`;
  const dir = dirname(destination);
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix)) await rm(join(dir, name), { force: true });
  }
}

async function send(request: DownloadRequest, extra: Record<string, string>): Promise<Response> {
  const where = describeUrl(request.url);
  let response: Response;
  try {
    response = await fetch(request.url, {
      headers: { ...request.headers, ...extra },
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal.aborted) throw error;
    throw new FileTaskError(`could not download ${where}: ${describeError(error)}`, true, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new FileTaskError(
      `download from ${where} answered HTTP ${response.status}`,
      isRetryableStatus(response.status),
    );
  }
  return response;
}
