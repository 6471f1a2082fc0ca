import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, replaceFileDurably, syncDirectory } from '../state/durable-file.js';
import { serverDirectory } from '../servers/server-host.js';
import { refusal } from './file-task-error.js';

/*
 * A node's local backups: `<backupsDir>/<serverId>/<backupId>.tar.gz` and beside it
 * `<backupId>.json` with its checksum. The archive is renamed into place first and the record
 * written last, so a backup counts only once both are complete.
 */

const BackupRecordSchema = z.object({
  backupId: z.string(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  entries: z.number().int(),
  createdAt: z.iso.datetime(),
});
export type BackupRecord = z.infer<typeof BackupRecordSchema>;

export class BackupStore {
  constructor(private readonly backupsDir: string) {}

  /** `<backupsDir>/<serverId>`, created if missing. */
  directoryOf(serverId: string): string {
    const dir = serverDirectory(this.backupsDir, serverId);
    ensurePrivateDir(dir);
    return dir;
  }

  archiveOf(serverId: string, backupId: string): string {
    return join(this.directoryOf(serverId), `${backupId}.tar.gz`);
  }

  /** Where an archive is written before `commit`; its name starts with "." and is never listed. */
  temporaryArchiveOf(serverId: string, backupId: string): string {
    return join(this.directoryOf(serverId), `.${backupId}.tar.gz.tmp`);
  }

  commit(serverId: string, temporaryArchive: string, record: BackupRecord): void {
    renameSync(temporaryArchive, this.archiveOf(serverId, record.backupId));
    replaceFileDurably(this.recordOf(serverId, record.backupId), `${JSON.stringify(record)}\n`);
    syncDirectory(this.directoryOf(serverId));
  }

  /** The record of one backup; a refusal naming payload.backupId when there is none. */
  read(serverId: string, backupId: string): BackupRecord {
    const record = this.#load(serverId, backupId);
    if (!record)
      throw refusal(`payload.backupId: server ${serverId} has no backup "${backupId}" on this node`);
    return record;
  }

  list(serverId: string): BackupRecord[] {
    return readdirSync(this.directoryOf(serverId))
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .map((name) => this.#load(serverId, name.slice(0, -'.json'.length)))
      .filter((record) => record !== undefined);
  }

  /** Archives an agent that died mid-backup left under their temporary names (call while holding the server's queue). */
  removeLeftovers(serverId: string): void {
    const dir = this.directoryOf(serverId);
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.') && name.endsWith('.tar.gz.tmp')) rmSync(join(dir, name), { force: true });
    }
  }

  remove(serverId: string, backupId: string): void {
    // The record first: a backup without one is not listed, whatever is left of its archive.
    rmSync(this.recordOf(serverId, backupId), { force: true });
    rmSync(this.archiveOf(serverId, backupId), { force: true });
  }

  private recordOf(serverId: string, backupId: string): string {
    return join(this.directoryOf(serverId), `${backupId}.json`);
  }

  #load(serverId: string, backupId: string): BackupRecord | undefined {
    try {
      const parsed = BackupRecordSchema.safeParse(
        JSON.parse(readFileSync(this.recordOf(serverId, backupId), 'utf8')),
      );
      return parsed.success && parsed.data.backupId === backupId ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
