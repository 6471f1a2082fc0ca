/*
 * Which of a server's local backups go after a new one: those past `keepLast` (newest first) and
 * those older than `retentionDays`. The backup just made is never among them.
 */

export interface PrunableBackup {
  backupId: string;
  createdAt: Date;
}

export interface PruneRules {
  keepLast?: number;
  retentionDays?: number;
  /** The backup just made: always kept. */
  keep?: string;
  now: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Ids to delete, oldest first. */
export function decidePrune(backups: readonly PrunableBackup[], rules: PruneRules): string[] {
  const newestFirst = [...backups].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.backupId < b.backupId ? 1 : -1),
  );
  const cutoff =
    rules.retentionDays === undefined ? undefined : rules.now.getTime() - rules.retentionDays * DAY_MS;
  return newestFirst
    .filter((backup, index) => {
      if (backup.backupId === rules.keep) return false;
      const beyondCount = rules.keepLast !== undefined && index >= rules.keepLast;
      const tooOld = cutoff !== undefined && backup.createdAt.getTime() < cutoff;
      return beyondCount || tooOld;
    })
    .map((backup) => backup.backupId)
    .reverse();
}
