import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/test-context.js';
import { downloadFile, type DownloadRequest } from './download.js';
import { FileTaskError } from './file-task-error.js';
import { startHttpFileServer, type HttpFileServer } from './testing/http-file-server.js';

let server: HttpFileServer;
let dir: string;

beforeEach(async () => {
  server = await startHttpFileServer();
  dir = mkdtempSync(join(tmpdir(), 'meridian-download-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function request(path: string, expected: Buffer, extra: Partial<DownloadRequest> = {}): DownloadRequest {
  return {
    url: server.url(path),
    headers: {},
    sha256: sha256(expected),
    destination: join(dir, 'server.jar'),
    partId: 'exec-1',
    maxBytes: 10 * 1024 * 1024,
    signal: new AbortController().signal,
    ...extra,
  };
}

async function refusalOf(promise: Promise<unknown>): Promise<FileTaskError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(FileTaskError);
  return error as FileTaskError;
}

describe('downloadFile', () => {
  it('places the file once its checksum matches, with the request headers sent, stale partial files removed', async () => {
    const body = randomBytes(300_000);
    server.route('/server.jar', { body });
    writeFileSync(join(dir, '.server.jar.part-left-by-a-dead-agent'), 'stale');
    const result = await downloadFile(
      request('/server.jar', body, { headers: { Authorization: 'Bearer x' } }),
    );
    expect(result).toEqual({ sizeBytes: body.length, sha256: sha256(body), resumed: false });
    expect(readFileSync(join(dir, 'server.jar')).equals(body)).toBe(true);
    expect(readdirSync(dir)).toEqual(['server.jar']);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer x');
  });

  it('refuses a checksum mismatch, not retryable, and leaves nothing behind', async () => {
    const body = randomBytes(10_000);
    server.route('/server.jar', { body });
    const error = await refusalOf(downloadFile(request('/server.jar', Buffer.from('something else'))));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('checksum mismatch');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes a broken-off transfer up again with Range where the server allows it', async () => {
    const body = randomBytes(200_000);
    server.route('/server.jar', { body, acceptRanges: true, dropOnceAfter: 70_000 });
    const result = await downloadFile(request('/server.jar', body));
    expect(result).toEqual({ sizeBytes: body.length, sha256: sha256(body), resumed: true });
    expect(readFileSync(join(dir, 'server.jar')).equals(body)).toBe(true);
    const resumedFrom = server.requests[1]?.range;
    expect(resumedFrom).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(resumedFrom ?? '')?.[0])).toBeGreaterThan(0);
  });

  it('starts over after a broken-off transfer when the server does not do ranges', async () => {
    const body = randomBytes(200_000);
    server.route('/server.jar', { body, dropOnceAfter: 70_000 });
    const result = await downloadFile(request('/server.jar', body));
    expect(result).toMatchObject({ sizeBytes: body.length, resumed: false });
    expect(server.requests.map((seen) => seen.range)).toEqual([undefined, undefined]);
    expect(readFileSync(join(dir, 'server.jar')).equals(body)).toBe(true);
  });

  it('removes the partial file when aborted mid-download', async () => {
    const body = randomBytes(1024 * 1024);
    server.route('/slow.jar', { body, slowChunkMs: 20 });
    const controller = new AbortController();
    const download = downloadFile(request('/slow.jar', body, { signal: controller.signal }));
    const partial = join(dir, '.server.jar.part-exec-1');
    await waitFor(() => existsSync(partial) && readFileSync(partial).length > 0, {
      description: 'some bytes in the partial file',
    });
    controller.abort(new Error('cancelled by the test'));
    await expect(download).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
    await waitFor(() => server.openResponses() === 0, { description: 'the server to see the client go' });
  });

  it('refuses a file larger than the limit, by its Content-Length', async () => {
    const body = randomBytes(5000);
    server.route('/big.jar', { body });
    const error = await refusalOf(downloadFile(request('/big.jar', body, { maxBytes: 4096 })));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('more than the limit of 4096');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    [404, false],
    [403, false],
    [503, true],
  ])('fails on HTTP %i (retryable: %s)', async (status, retryable) => {
    server.route('/gone.jar', { body: Buffer.alloc(0), status });
    const error = await refusalOf(downloadFile(request('/gone.jar', Buffer.alloc(0))));
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps a presigned query string out of its errors', async () => {
    server.route('/gone.jar', { body: Buffer.alloc(0), status: 404 });
    const error = await refusalOf(
      downloadFile({
        ...request('/gone.jar', Buffer.alloc(0)),
        url: `${server.url('/gone.jar')}?X-Signature=secret`,
      }),
    );
    expect(error.message).not.toContain('secret');
  });
});
