import { performance } from 'node:perf_hooks';
import type pg from 'pg';

export interface EventSeed {
  orgId: string;
  /** The task whose log gets `taskEvents` events, spread over the whole history of the org. */
  taskId: string;
  orgEvents: number;
  taskEvents: number;
  /** Events of another organisation in the same table, interleaved with the org's. */
  neighbourEvents: number;
  /** The time the history spans, from 2025-01-01T00:00:00Z. */
  days: number;
}

export const HISTORY_START = '2025-01-01T00:00:00Z';

/**
 * Fills task_events in a few statements (generate_series), with the shape of a real history:
 * other tasks have the 8 events of a run (created, queued, dispatched, accepted, started, progress,
 * completed or failed, and a trigger or reschedule for one task in 25), the busy task has 5 per run
 * (triggered or rescheduled, dispatched, accepted, started, completed), times evenly spread. The
 * rows' transaction ids are made up: `perTransaction` consecutive events share one, all of them
 * below every running transaction (the cluster's transaction counter may be young), as if each
 * batch of reports or dispatches had been one transaction. Returns seconds taken, VACUUM ANALYZE
 * included (what autovacuum does to an append-only table after a while).
 */
export async function seedEvents(
  db: pg.Pool,
  seed: EventSeed,
): Promise<{ seconds: number; perTransaction: number }> {
  const start = performance.now();
  const { rows } = await db.query<{ xmin: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
  );
  const room = Number(rows[0]!.xmin) - 10;
  const perTransaction = Math.max(1, Math.ceil(seed.orgEvents / room));
  const spacingMs = (seed.days * 86_400_000) / seed.orgEvents;
  const every = Math.floor(seed.orgEvents / seed.taskEvents);
  await db.query(
    `INSERT INTO task_events (org_id, task_id, type, from_status, to_status, actor, correlation_id, data,
                              occurred_at, recorded_at, tx_id)
     SELECT $1,
            CASE WHEN i % $5 = 0 AND i / $5 < $6 THEN $2::uuid ELSE md5($1 || (i / 8))::uuid END,
            CASE WHEN i % $5 = 0 AND i / $5 < $6 THEN
                   (ARRAY[CASE WHEN (i / $5 / 5) % 4 = 0 THEN 'TaskRescheduled' ELSE 'TaskTriggered' END,
                          'TaskDispatched', 'TaskAccepted', 'TaskStarted', 'TaskCompleted'])[1 + (i / $5) % 5]
                 ELSE (ARRAY['TaskCreated', 'TaskQueued', 'TaskDispatched', 'TaskAccepted', 'TaskStarted',
                             'TaskProgress',
                             CASE WHEN (i / 8) % 10 = 0 THEN 'TaskFailed' ELSE 'TaskCompleted' END,
                             CASE WHEN (i / 8) % 50 = 0 THEN 'TaskRescheduled'
                                  WHEN (i / 8) % 25 = 0 THEN 'TaskTriggered' ELSE 'TaskProgress' END])[1 + i % 8]
            END,
            'Pending', 'Scheduled',
            CASE WHEN i % 8 < 2 THEN 'user:bench' WHEN i % 8 = 2 THEN 'system:dispatcher'
                 ELSE 'node:bench-' || ((i / 8) % 20) END,
            'bench-' || (i / 8), '{"attempt": 1}'::jsonb,
            $3::timestamptz + i * ($4 * interval '1 millisecond'),
            $3::timestamptz + i * ($4 * interval '1 millisecond'),
            (3 + i / $7)::text::xid8
       FROM generate_series(0, $8 - 1) AS i`,
    [
      seed.orgId,
      seed.taskId,
      HISTORY_START,
      spacingMs,
      every,
      seed.taskEvents,
      perTransaction,
      seed.orgEvents,
    ],
  );
  // The neighbour's events take the same transaction ids: they were written in the same batches.
  await db.query(
    `INSERT INTO task_events (org_id, task_id, type, actor, correlation_id, occurred_at, recorded_at, tx_id)
     SELECT $1 || '-neighbour', md5($1 || '-neighbour' || (i / 8))::uuid, 'TaskProgress', 'node:other', 'n',
            $2::timestamptz + i * ($3 * interval '1 millisecond'), now(), (3 + i / $4)::text::xid8
       FROM generate_series(0, $5 - 1) AS i`,
    [
      seed.orgId,
      HISTORY_START,
      (seed.days * 86_400_000) / Math.max(1, seed.neighbourEvents),
      Math.max(1, Math.ceil(seed.neighbourEvents / room)),
      seed.neighbourEvents,
    ],
  );
  await db.query('VACUUM ANALYZE task_events');
  return { seconds: (performance.now() - start) / 1000, perTransaction };
}
