import type { EntityManager } from 'typeorm';
import { DomainError } from '../../domain/errors.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { lockTaskOfOrg } from '../runs/lock-task.js';
import { lockTasksOfOrg } from './lock-tasks.js';

export type BulkItemOutcome<T> =
  | { index: number; taskId: string; ok: true; value: T }
  | { index: number; taskId: string; ok: false; error: DomainError };

/** Applies one item to its locked task; `index` is the item's place in the request. */
export type BulkItemApply<Item, T> = (
  manager: EntityManager,
  item: Item,
  task: TaskEntity,
  index: number,
) => Promise<T>;

export interface BulkOutcome<T> {
  /** False when `allOrNothing` rolled everything back because an item failed. */
  applied: boolean;
  /** In the order of the request's items. */
  items: BulkItemOutcome<T>[];
}

/** Raised inside the transaction to roll back an all-or-nothing batch; never leaves this module. */
class RollBackBatch extends Error {}

/**
 * Applies each item to its task, locked in the caller's org, in ONE transaction: each item in a
 * savepoint, so a refused item (404, 409, 422) undoes only its own changes. With `allOrNothing`,
 * every item is still tried (so that the answer names each failing one), then the whole batch is
 * rolled back if any failed. Tasks are locked in id order whatever the request's order, so two
 * batches over the same tasks cannot deadlock. Anything but a DomainError fails the whole call.
 *
 * The round trips to PostgreSQL are most of a batch's cost, so the tasks are locked and loaded
 * together up front (one statement, in id order) and each item's savepoint is opened in the same
 * round trip that releases the previous one. A task named again by a later item is read afresh,
 * so that item sees what the earlier one did.
 */
export async function applyBulk<Item extends { taskId: string }, T>(
  deps: AppDeps,
  actor: Actor,
  items: readonly Item[],
  allOrNothing: boolean,
  apply: BulkItemApply<Item, T>,
): Promise<BulkOutcome<T>> {
  const key = (index: number) => items[index]!.taskId.toLowerCase();
  const order = items.map((_, index) => index).sort((a, b) => compare(key(a), key(b)) || a - b);
  const outcomes: BulkItemOutcome<T>[] = new Array<BulkItemOutcome<T>>(items.length);
  try {
    await deps.dataSource.transaction(async (manager) => {
      const unread = await lockTasksOfOrg(manager, actor.orgId, [...new Set(order.map(key))]);
      const savepoints = new ItemSavepoints(manager);
      for (const index of order) {
        const item = items[index]!;
        const preloaded = unread.get(key(index));
        unread.delete(key(index));
        const task = () => preloaded ?? lockTaskOfOrg(manager, actor.orgId, item.taskId);
        outcomes[index] = await applyOne(manager, savepoints, task, item, index, apply);
      }
      if (allOrNothing && outcomes.some((outcome) => !outcome.ok)) throw new RollBackBatch();
    });
  } catch (error) {
    if (!(error instanceof RollBackBatch)) throw error;
    return { applied: false, items: outcomes };
  }
  return { applied: true, items: outcomes };
}

async function applyOne<Item extends { taskId: string }, T>(
  manager: EntityManager,
  savepoints: ItemSavepoints,
  task: () => Promise<TaskEntity> | TaskEntity,
  item: Item,
  index: number,
  apply: BulkItemApply<Item, T>,
): Promise<BulkItemOutcome<T>> {
  await savepoints.open();
  try {
    const value = await apply(manager, item, await task(), index);
    return { index, taskId: item.taskId, ok: true, value };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await savepoints.rollBack();
    return { index, taskId: item.taskId, ok: false, error: error as DomainError };
  }
}

/**
 * One savepoint per item. An applied item's savepoint is released by the statement that opens the
 * next one (one round trip instead of two); the last is left to the transaction's end, which
 * releases it. A refused item's is rolled back and released at once, so savepoints never nest.
 */
class ItemSavepoints {
  private unreleased = false;

  constructor(private readonly manager: EntityManager) {}

  async open(): Promise<void> {
    await this.manager.query(
      this.unreleased ? 'RELEASE SAVEPOINT bulk_item; SAVEPOINT bulk_item' : 'SAVEPOINT bulk_item',
    );
    this.unreleased = true;
  }

  async rollBack(): Promise<void> {
    await this.manager.query('ROLLBACK TO SAVEPOINT bulk_item; RELEASE SAVEPOINT bulk_item');
    this.unreleased = false;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
