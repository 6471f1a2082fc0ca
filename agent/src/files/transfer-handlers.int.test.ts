import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferResult } from '@meridian/contracts/task-types/file-tasks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/test-context.js';
import type { HandlerResult } from '../handlers/handler.js';
import { removeDataDirs } from '../testing/data-dir.js';
import { createFileHandlers } from './file-handlers.js';
import { createFileTaskFixture, type FileTaskFixture } from './testing/file-task-fixture.js';
import { startHttpFileServer, type HttpFileServer } from './testing/http-file-server.js';
import { buildTarGz } from './testing/tar-builder.js';

let fixture: FileTaskFixture;
let http: HttpFileServer;
let dir: string;

beforeEach(async () => {
  fixture = createFileTaskFixture();
  http = await startHttpFileServer();
  dir = join(fixture.servers.root, 'alpha');
  mkdirSync(join(dir, 'world'), { recursive: true });
  writeFileSync(join(dir, 'server.jar'), 'old jar');
  writeFileSync(join(dir, 'world/level.dat'), 'level');
});
afterEach(async () => {
  await http.close();
  fixture.remove();
  removeDataDirs();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function handler(type: string) {
  const found = createFileHandlers(fixture.deps).find((candidate) => candidate.type === type);
  if (!found) throw new Error(`no ${type} handler`);
  return found;
}

function run(type: string, payload: unknown) {
  return fixture.run(handler(type), 'alpha', payload);
}

function serve(path: string, body: Buffer) {
  http.route(path, { body });
  return { url: http.url(path), sha256: sha256(body) };
}

const resultOf = (outcome: HandlerResult) => (outcome as { result: TransferResult }).result;
const rootEntries = () => readdirSync(fixture.servers.root).sort();

describe('createFileHandlers', () => {
  it('has one handler per file task type', () => {
    expect(createFileHandlers(fixture.deps).map((candidate) => candidate.type)).toEqual([
      'Backup',
      'Restore',
      'ServerUpdate',
      'ModInstall',
      'FileTransfer',
      'Custom',
    ]);
  });
});

describe('the server queue', () => {
  it('waits for the task holding the server, and gives up waiting on abort', async () => {
    let release = () => undefined as void;
    const holding = fixture.host.exclusive(
      'alpha',
      new AbortController().signal,
      () => new Promise<void>((done) => (release = done)),
    );
    const mod = serve('/m.jar', Buffer.from('m'));
    const waiting = run('ModInstall', { ...mod, fileName: 'm.jar' });
    const queued = run('ModInstall', { ...mod, fileName: 'n.jar' });
    waiting.controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 1000 });
    await expect(waiting.result).resolves.toMatchObject({ status: 'failed' });
    expect(waiting.events).toEqual([]);
    expect(queued.events).toEqual([]);
    release();
    await holding;
    await expect(queued.result).resolves.toMatchObject({ status: 'completed' });
    expect(readdirSync(join(dir, 'plugins'))).toEqual(['n.jar']);
  });
});

describe('ServerUpdate', () => {
  it('unpacks the update over a copy of the server directory and swaps it in', async () => {
    const update = buildTarGz([
      { path: 'release-2/', type: 'Directory' },
      { path: 'release-2/server.jar', body: 'new jar' },
      { path: 'release-2/libraries/lib.jar', body: 'lib' },
    ]);
    const outcome = await run('ServerUpdate', { ...serve('/update.tar.gz', update), stripComponents: 1 })
      .result;
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(resultOf(outcome)).toEqual({
      path: '.',
      sizeBytes: update.length,
      sha256: sha256(update),
      entries: 2,
      resumed: false,
    });
    expect(readFileSync(join(dir, 'server.jar'), 'utf8')).toBe('new jar');
    expect(readFileSync(join(dir, 'libraries/lib.jar'), 'utf8')).toBe('lib');
    expect(readFileSync(join(dir, 'world/level.dat'), 'utf8')).toBe('level');
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('refuses a checksum mismatch and a hostile update, leaving the directory as it was', async () => {
    const update = buildTarGz([{ path: 'server.jar', body: 'new jar' }]);
    http.route('/update.tar.gz', { body: update });
    const mismatch = await run('ServerUpdate', { url: http.url('/update.tar.gz'), sha256: 'c'.repeat(64) })
      .result;
    expect(mismatch).toMatchObject({ status: 'failed', retryable: false });

    const hostile = buildTarGz([
      { path: 'server.jar', body: 'new jar' },
      { path: 'plugins/../../../evil', body: 'evil' },
    ]);
    const refused = await run('ServerUpdate', serve('/hostile.tar.gz', hostile)).result;
    expect(refused).toMatchObject({ status: 'failed', retryable: false });
    expect((refused as { error: string }).error).toContain('hostile archive refused');
    expect(readFileSync(join(dir, 'server.jar'), 'utf8')).toBe('old jar');
    expect(existsSync(join(fixture.base, 'evil'))).toBe(false);
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('places a single file when extract is false', async () => {
    const jar = randomBytes(50_000);
    const outcome = await run('ServerUpdate', {
      ...serve('/server.jar', jar),
      extract: false,
      path: 'server.jar',
    }).result;
    expect(resultOf(outcome)).toMatchObject({ path: 'server.jar', sizeBytes: jar.length, resumed: false });
    expect(readFileSync(join(dir, 'server.jar')).equals(jar)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['server.jar', 'world']);
  });

  it('refuses while the server runs unless allowRunning', async () => {
    fixture.host.running.add('alpha');
    const jar = serve('/server.jar', Buffer.from('new jar'));
    const refused = await run('ServerUpdate', { ...jar, extract: false, path: 'server.jar' }).result;
    expect(refused).toMatchObject({ status: 'failed', retryable: false });
    expect(http.requests).toEqual([]);
    const allowed = await run('ServerUpdate', {
      ...jar,
      extract: false,
      path: 'server.jar',
      allowRunning: true,
    }).result;
    expect(allowed).toMatchObject({ status: 'completed' });
  });

  it('leaves no partial file when cancelled mid-download', async () => {
    const jar = randomBytes(1024 * 1024);
    http.route('/slow.jar', { body: jar, slowChunkMs: 20 });
    const { result, controller, events } = run('ServerUpdate', {
      url: http.url('/slow.jar'),
      sha256: sha256(jar),
      extract: false,
      path: 'server.jar',
    });
    await waitFor(() => readdirSync(dir).some((name) => name.startsWith('.server.jar.part-')), {
      description: 'the partial file',
    });
    controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 1000 });
    await expect(result).resolves.toMatchObject({ status: 'failed' });
    expect(readdirSync(dir).sort()).toEqual(['server.jar', 'world']);
    expect(readFileSync(join(dir, 'server.jar'), 'utf8')).toBe('old jar');
    expect(events[0]).toEqual({ kind: 'started', pid: undefined });
  });
});

describe('ModInstall', () => {
  it('downloads the mod into its directory, created if missing', async () => {
    const mod = randomBytes(20_000);
    const outcome = await run('ModInstall', { ...serve('/essentials.jar', mod), fileName: 'Essentials.jar' })
      .result;
    expect(resultOf(outcome)).toMatchObject({ path: 'plugins/Essentials.jar', sizeBytes: mod.length });
    expect(readFileSync(join(dir, 'plugins/Essentials.jar')).equals(mod)).toBe(true);
  });

  it('refuses a directory that leaves the server through a symbolic link', async () => {
    const outside = join(fixture.base, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(dir, 'mods'));
    const outcome = await run('ModInstall', {
      ...serve('/m.jar', Buffer.from('m')),
      fileName: 'm.jar',
      directory: 'mods/extra',
    }).result;
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    expect((outcome as { error: string }).error).toMatch(/payload\.directory .* symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(http.requests).toEqual([]);
  });
});

describe('FileTransfer', () => {
  it('downloads a file to its path', async () => {
    const body = Buffer.from('{"ops":[]}');
    const outcome = await run('FileTransfer', {
      direction: 'download',
      ...serve('/ops.json', body),
      path: 'config/ops.json',
    }).result;
    expect(resultOf(outcome)).toMatchObject({ path: 'config/ops.json', sha256: sha256(body) });
    expect(readFileSync(join(dir, 'config/ops.json'), 'utf8')).toBe('{"ops":[]}');
  });

  it('uploads a file byte-exact', async () => {
    const body = randomBytes(100_000);
    writeFileSync(join(dir, 'world/region.mca'), body);
    const outcome = await run('FileTransfer', {
      direction: 'upload',
      url: http.url('/put/region.mca'),
      path: 'world/region.mca',
    }).result;
    expect(resultOf(outcome)).toEqual({
      path: 'world/region.mca',
      sizeBytes: body.length,
      sha256: sha256(body),
    });
    expect(http.uploads.get('/put/region.mca')?.equals(body)).toBe(true);
  });

  it('refuses to upload a file reached through a symbolic link', async () => {
    writeFileSync(join(fixture.base, 'secret'), 'secret');
    symlinkSync(join(fixture.base, 'secret'), join(dir, 'innocent.txt'));
    symlinkSync(fixture.base, join(dir, 'up'));
    for (const path of ['innocent.txt', 'up/secret']) {
      const outcome = await run('FileTransfer', { direction: 'upload', url: http.url('/put/x'), path })
        .result;
      expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    }
    expect(http.uploads.size).toBe(0);
  });
});

describe('Custom', () => {
  it('runs the script in the server directory with the base environment and its own', async () => {
    const { result, output, events } = run('Custom', {
      script: 'echo "$FROM_BASE $FROM_TASK"; pwd; cat world/level.dat',
      env: { FROM_TASK: 'task' },
    });
    await expect(result).resolves.toEqual({ status: 'completed', exitCode: 0 });
    expect(output.stdout.toString()).toBe(`base task\n${dir}\nlevel`);
    expect(events[0]).toMatchObject({ kind: 'started', pid: expect.any(Number) as unknown });
  });

  it('fails with the exit code of a failing script', async () => {
    await expect(run('Custom', { script: 'exit 4' }).result).resolves.toMatchObject({
      status: 'failed',
      exitCode: 4,
      retryable: false,
    });
  });

  it('refuses a server without a directory', async () => {
    const outcome = await fixture.run(handler('Custom'), 'beta', { script: 'true' }).result;
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    expect((outcome as { error: string }).error).toContain('server beta has no directory');
  });
});
