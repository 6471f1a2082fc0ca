import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTaskError } from './file-task-error.js';
import { startHttpFileServer, type HttpFileServer } from './testing/http-file-server.js';
import { uploadFile, type UploadRequest } from './upload.js';

let server: HttpFileServer;
let dir: string;

beforeEach(async () => {
  server = await startHttpFileServer();
  dir = mkdtempSync(join(tmpdir(), 'meridian-upload-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function request(file: string, extra: Partial<UploadRequest> = {}): UploadRequest {
  return {
    url: server.url('/bucket/world.dat'),
    headers: { 'x-amz-meta-server': 'alpha' },
    file: join(dir, file),
    name: `payload.path "${file}"`,
    maxBytes: 10 * 1024 * 1024,
    signal: new AbortController().signal,
    ...extra,
  };
}

describe('uploadFile', () => {
  it('PUTs the file byte-exact with its Content-Length and the extra headers', async () => {
    const body = randomBytes(500_000);
    writeFileSync(join(dir, 'world.dat'), body);
    const result = await uploadFile(request('world.dat'));
    expect(result).toEqual({
      sizeBytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(server.uploads.get('/bucket/world.dat')?.equals(body)).toBe(true);
    const seen = server.requests[0];
    expect(seen?.headers['content-length']).toBe(String(body.length));
    expect(seen?.headers['transfer-encoding']).toBeUndefined();
    expect(seen?.headers['x-amz-meta-server']).toBe('alpha');
  });

  it('refuses a symbolic link, and a file that does not exist, not retryable', async () => {
    writeFileSync(join(dir, 'real.dat'), 'x');
    symlinkSync(join(dir, 'real.dat'), join(dir, 'link.dat'));
    for (const [file, message] of [
      ['link.dat', /is a symbolic link/],
      ['missing.dat', /does not exist/],
    ] as const) {
      const error = await uploadFile(request(file)).catch((error: unknown) => error);
      expect(error).toBeInstanceOf(FileTaskError);
      expect((error as FileTaskError).retryable).toBe(false);
      expect((error as FileTaskError).message).toMatch(message);
    }
    expect(server.requests).toEqual([]);
  });
});
