import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BackupResult, RestoreResult } from '@meridian/contracts/task-types/file-tasks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDataDirs } from '../testing/data-dir.js';
import { BackupStore } from './backups-store.js';
import { createBackupHandler } from './handlers/backup.js';
import { createRestoreHandler } from './handlers/restore.js';
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
  mkdirSync(join(dir, 'world/region'), { recursive: true });
  writeFileSync(join(dir, 'server.properties'), 'motd=hello\n');
  writeFileSync(join(dir, 'world/level.dat'), 'level-1');
  writeFileSync(join(dir, 'world/region/r.0.0.mca'), Buffer.alloc(100_000, 7));
  symlinkSync('level.dat', join(dir, 'world/latest'));
});
afterEach(async () => {
  await http.close();
  fixture.remove();
  removeDataDirs();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function backup(payload: unknown = {}): Promise<BackupResult> {
  const { result } = fixture.run(createBackupHandler(fixture.deps), 'alpha', payload);
  const outcome = await result;
  expect(outcome).toMatchObject({ status: 'completed' });
  return (outcome as { result: BackupResult }).result;
}

function restore(payload: unknown) {
  return fixture.run(createRestoreHandler(fixture.deps), 'alpha', payload).result;
}

/** What is left beside the server directories: no staging or old directory may stay. */
const rootEntries = () => readdirSync(fixture.servers.root).sort();

describe('Backup and Restore', () => {
  it('restores the files as they were at the backup', async () => {
    const made = await backup();
    expect(made).toMatchObject({ location: 'local', entries: 6, pruned: [] });
    const archive = readFileSync(join(fixture.servers.backupsDir, 'alpha', `${made.backupId}.tar.gz`));
    expect(made.sizeBytes).toBe(archive.length);
    expect(made.sha256).toBe(sha256(archive));

    writeFileSync(join(dir, 'server.properties'), 'motd=changed\n');
    writeFileSync(join(dir, 'world/new-after-backup.dat'), 'new');
    rmSync(join(dir, 'world/region'), { recursive: true });

    const restored = await restore({ backupId: made.backupId });
    expect(restored).toEqual({
      status: 'completed',
      result: { sizeBytes: made.sizeBytes, sha256: made.sha256, entries: 6 } satisfies RestoreResult,
    });
    expect(readFileSync(join(dir, 'server.properties'), 'utf8')).toBe('motd=hello\n');
    expect(readFileSync(join(dir, 'world/region/r.0.0.mca')).equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(readlinkSync(join(dir, 'world/latest'))).toBe('level.dat');
    expect(existsSync(join(dir, 'world/new-after-backup.dat'))).toBe(false);
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('leaves excluded files out', async () => {
    writeFileSync(join(dir, 'debug.log'), 'x');
    mkdirSync(join(dir, 'cache/deep'), { recursive: true });
    writeFileSync(join(dir, 'cache/deep/blob'), 'x');
    writeFileSync(join(dir, 'world/session.lock'), 'x');
    const made = await backup({ exclude: ['*.log', 'cache', 'world/session.lock'] });
    rmSync(dir, { recursive: true });
    await expect(restore({ backupId: made.backupId })).resolves.toMatchObject({ status: 'completed' });
    expect(existsSync(join(dir, 'debug.log'))).toBe(false);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
    expect(existsSync(join(dir, 'world/session.lock'))).toBe(false);
    expect(readFileSync(join(dir, 'world/level.dat'), 'utf8')).toBe('level-1');
  });

  it('refuses a checksum that is not the backup’s, and a damaged backup, changing nothing', async () => {
    const made = await backup();
    writeFileSync(join(dir, 'server.properties'), 'motd=changed\n');
    await expect(restore({ backupId: made.backupId, sha256: 'a'.repeat(64) })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringContaining('payload.sha256') as unknown,
    });
    const archive = join(fixture.servers.backupsDir, 'alpha', `${made.backupId}.tar.gz`);
    const bytes = readFileSync(archive);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    writeFileSync(archive, bytes);
    await expect(restore({ backupId: made.backupId })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringContaining('is damaged') as unknown,
    });
    expect(readFileSync(join(dir, 'server.properties'), 'utf8')).toBe('motd=changed\n');
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('refuses an unknown backup id naming payload.backupId', async () => {
    await expect(restore({ backupId: '20200101T000000Z-00000000' })).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringMatching(/^payload\.backupId/) as unknown,
    });
  });

  it('restores from a URL, checked by its SHA-256', async () => {
    const made = await backup();
    const archive = readFileSync(join(fixture.servers.backupsDir, 'alpha', `${made.backupId}.tar.gz`));
    http.route('/backup.tar.gz', { body: archive });
    rmSync(dir, { recursive: true });

    await expect(restore({ url: http.url('/backup.tar.gz'), sha256: 'b'.repeat(64) })).resolves.toMatchObject(
      {
        status: 'failed',
        retryable: false,
        error: expect.stringContaining('checksum mismatch') as unknown,
      },
    );
    expect(existsSync(dir)).toBe(false);

    await expect(restore({ url: http.url('/backup.tar.gz'), sha256: made.sha256 })).resolves.toMatchObject({
      status: 'completed',
      result: { sha256: made.sha256, entries: 6 },
    });
    expect(readFileSync(join(dir, 'world/level.dat'), 'utf8')).toBe('level-1');
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('refuses a hostile archive from a URL without writing anything, outside or in', async () => {
    const outside = join(fixture.base, 'evil');
    const hostile = buildTarGz([
      { path: 'world/', type: 'Directory' },
      { path: 'world/ok.dat', body: 'fine' },
      { path: 'escape', type: 'SymbolicLink', linkpath: fixture.base },
      { path: 'escape/evil', body: 'evil' },
    ]);
    http.route('/hostile.tar.gz', { body: hostile });
    const outcome = await restore({ url: http.url('/hostile.tar.gz'), sha256: sha256(hostile) });
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    expect((outcome as { error: string }).error).toMatch(/hostile archive refused: entry "escape"/);
    expect(existsSync(outside)).toBe(false);
    expect(readFileSync(join(dir, 'world/level.dat'), 'utf8')).toBe('level-1');
    expect(rootEntries()).toEqual(['alpha']);
  });

  it('uploads the backup with PUT instead of keeping it', async () => {
    const made = await backup({
      upload: { url: http.url('/bucket/alpha.tar.gz'), headers: { 'x-token': 't' } },
    });
    expect(made.location).toBe('uploaded');
    const received = http.uploads.get('/bucket/alpha.tar.gz');
    expect(received?.length).toBe(made.sizeBytes);
    expect(sha256(received ?? Buffer.alloc(0))).toBe(made.sha256);
    expect(http.requests[0]?.headers['x-token']).toBe('t');
    expect(existsSync(join(fixture.servers.backupsDir, 'alpha'))).toBe(false);
  });

  it('prunes by keepLast and retentionDays, never the new backup, and removes unfinished archives', async () => {
    const store = new BackupStore(fixture.servers.backupsDir);
    const old = (id: string, daysAgo: number) => {
      const temporary = store.temporaryArchiveOf('alpha', id);
      writeFileSync(temporary, 'old');
      store.commit('alpha', temporary, {
        backupId: id,
        sha256: sha256(Buffer.from('old')),
        sizeBytes: 3,
        entries: 1,
        createdAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
      });
    };
    old('20200101T000000Z-0000000a', 40);
    old('20200101T000000Z-0000000b', 2);
    old('20200101T000000Z-0000000c', 1);
    // Left by an agent that died mid-backup: removed by the next backup.
    writeFileSync(store.temporaryArchiveOf('alpha', '20200101T000000Z-0000000d'), 'half');

    const byAge = await backup({ retentionDays: 30 });
    expect(byAge.pruned).toEqual(['20200101T000000Z-0000000a']);
    const byCount = await backup({ keepLast: 1 });
    expect(byCount.pruned.sort()).toEqual(
      [byAge.backupId, '20200101T000000Z-0000000b', '20200101T000000Z-0000000c'].sort(),
    );
    expect(readdirSync(join(fixture.servers.backupsDir, 'alpha')).sort()).toEqual(
      [`${byCount.backupId}.json`, `${byCount.backupId}.tar.gz`].sort(),
    );
  });

  it('refuses a running server unless allowRunning, and a task not targeting a server', async () => {
    fixture.host.running.add('alpha');
    const refused = await fixture.run(createBackupHandler(fixture.deps), 'alpha', {}).result;
    expect(refused).toMatchObject({ status: 'failed', retryable: false });
    expect((refused as { error: string }).error).toContain('payload.allowRunning');
    await backup({ allowRunning: true });

    const context = fixture.run(createBackupHandler(fixture.deps), 'alpha', {});
    await context.result;
    context.ctx.execution.target = { type: 'Node', id: 'node-1' };
    await expect(createBackupHandler(fixture.deps).run(context.ctx)).resolves.toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringContaining('targetType must be "Server"') as unknown,
    });
  });
});
