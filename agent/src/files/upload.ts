import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { FileTaskError, describeError, refusal } from './file-task-error.js';
import type { ByteProgress } from './progress.js';
import { describeUrl, isRetryableStatus } from './transfer-url.js';

export interface UploadRequest {
  url: string;
  headers: Record<string, string>;
  /** Absolute, already checked to be inside its root; a symbolic link in its last component is refused. */
  file: string;
  /** What the file is called in errors (the payload's field and path). */
  name: string;
  maxBytes: number;
  signal: AbortSignal;
  progress?: ByteProgress;
}

/**
 * Sends a file with HTTP PUT, streamed, with its Content-Length (presigned URLs of object stores
 * require it), hashing what was sent. A 2xx answer is required.
 */
export async function uploadFile(request: UploadRequest): Promise<{ sizeBytes: number; sha256: string }> {
  const where = describeUrl(request.url);
  const file = await openRegularFile(request.file, request.name);
  try {
    const { size } = await file.stat();
    if (size > request.maxBytes)
      throw refusal(`${request.name} is ${size} bytes, more than the limit of ${request.maxBytes}`);
    const hash = createHash('sha256');
    let sent = 0;
    const counted = file.createReadStream({ autoClose: false }).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          sent += chunk.length;
          request.progress?.update(sent, size);
          done(null, chunk);
        },
      }),
    );
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: 'PUT',
        headers: { ...request.headers, 'content-length': String(size) },
        body: Readable.toWeb(counted) as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal.aborted) throw error;
      throw new FileTaskError(`could not upload to ${where}: ${describeError(error)}`, true, {
        cause: error,
      });
    }
    await response.body?.cancel();
    if (!response.ok)
      throw new FileTaskError(
        `upload to ${where} answered HTTP ${response.status}`,
        isRetryableStatus(response.status),
      );
    if (sent !== size) throw new FileTaskError(`${request.name} changed while it was uploaded`, true);
    return { sizeBytes: size, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

async function openRegularFile(path: string, name: string) {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refusal(`${name} is a symbolic link: upload the file it points to instead`);
    if (code === 'ENOENT') throw refusal(`${name} does not exist`);
    throw error;
  }
  if (!(await file.stat()).isFile()) {
    await file.close();
    throw refusal(`${name} is not a regular file`);
  }
  return file;
}
