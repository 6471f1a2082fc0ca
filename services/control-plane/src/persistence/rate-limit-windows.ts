import type { EntityManager } from 'typeorm';
import type { RateLimitCharge } from '../domain/rate-limit-policy.js';

interface CountedRow {
  limit_name: string;
  subject: string;
  hits: number;
}

const keyOf = (name: string, subject: string) => `${name}\u0000${subject}`;

/** Code-unit order of (limit, subject, window): the same on every replica, whatever its locale. */
function compareCharges(a: RateLimitCharge, b: RateLimitCharge): number {
  for (const [x, y] of [
    [a.name, b.name],
    [a.subject, b.subject],
  ] as const) {
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.windowStart.getTime() - b.windowStart.getTime();
}

/**
 * Adds each charge's hits to its window's counter in one statement and returns the counts reached,
 * in the order of `charges`. Run it in a transaction and roll back to take the hits back.
 *
 * The upsert is atomic under concurrency (a conflicting insert waits for the other transaction and
 * then updates the committed row), and the row lock it takes holds every other caller of that
 * counter until this transaction ends: a check of the returned counts followed by commit or
 * rollback is exact across replicas. Rows are upserted in one global order, so that two calls
 * touching the same counters cannot deadlock.
 */
export async function addRateLimitHits(
  manager: EntityManager,
  charges: readonly RateLimitCharge[],
): Promise<number[]> {
  const sorted = [...charges].sort(compareCharges);
  const rows = await manager.query<CountedRow[]>(
    `INSERT INTO rate_limit_windows AS w (limit_name, subject, window_start, hits, expires_at)
     SELECT limit_name, subject, window_start, hits, expires_at
       FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::timestamptz[])
            WITH ORDINALITY AS c (limit_name, subject, window_start, hits, expires_at, position)
      ORDER BY position
     ON CONFLICT (limit_name, subject, window_start) DO UPDATE SET hits = w.hits + EXCLUDED.hits
     RETURNING limit_name, subject, hits`,
    [
      sorted.map((c) => c.name),
      sorted.map((c) => c.subject),
      sorted.map((c) => c.windowStart),
      sorted.map((c) => c.hits),
      sorted.map((c) => c.expiresAt),
    ],
  );
  const counted = new Map(rows.map((row) => [keyOf(row.limit_name, row.subject), row.hits]));
  return charges.map((charge) => {
    const hits = counted.get(keyOf(charge.name, charge.subject));
    if (hits === undefined) throw new Error(`no count came back for ${charge.name} ${charge.subject}`);
    return hits;
  });
}
