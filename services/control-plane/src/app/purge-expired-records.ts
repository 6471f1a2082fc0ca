import type { AppDeps } from './app-deps.js';

/**
 * Deletes operational rows past retention: dedupe records of consumed messages and outbox rows
 * already published. A message redelivered after its dedupe row is gone would be applied again,
 * so retention must stay far longer than any redelivery (days, not minutes). Dead letters are kept
 * as long (from the time they were dead-lettered). Idempotency keys go when they expire (24 hours),
 * whatever the retention, and so do rate-limit counters (a few minutes after their window ends).
 * Task rows and the audit log are not touched here. Returns how many rows were deleted.
 */
export async function purgeExpiredRecords(
  deps: AppDeps,
  retentionDays: number,
  batchSize: number,
): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - retentionDays * 86_400_000);
  const processed: unknown[] = await deps.dataSource.query(
    `WITH purged AS (
       DELETE FROM processed_messages WHERE message_id IN (
         SELECT message_id FROM processed_messages WHERE processed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1)
     SELECT 1 FROM purged`,
    [cutoff, batchSize],
  );
  const outbox: unknown[] = await deps.dataSource.query(
    `WITH purged AS (
       DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1)
     SELECT 1 FROM purged`,
    [cutoff, batchSize],
  );
  const keys: unknown[] = await deps.dataSource.query(
    `WITH purged AS (
       DELETE FROM idempotency_keys WHERE (org_id, scope, key) IN (
         SELECT org_id, scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1)
     SELECT 1 FROM purged`,
    [deps.clock.now(), batchSize],
  );
  const deadLetters: unknown[] = await deps.dataSource.query(
    `WITH purged AS (
       DELETE FROM dead_letters WHERE id IN (
         SELECT id FROM dead_letters WHERE dead_lettered_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1)
     SELECT 1 FROM purged`,
    [cutoff, batchSize],
  );
  const rateLimitWindows: unknown[] = await deps.dataSource.query(
    `WITH purged AS (
       DELETE FROM rate_limit_windows WHERE (limit_name, subject, window_start) IN (
         SELECT limit_name, subject, window_start FROM rate_limit_windows WHERE expires_at <= $1
          LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1)
     SELECT 1 FROM purged`,
    [deps.clock.now(), batchSize],
  );
  return processed.length + outbox.length + keys.length + deadLetters.length + rateLimitWindows.length;
}
