import type { TaskPriority } from '@meridian/contracts/api/task';

export interface NodeSlots {
  id: string;
  orgId: string;
  capacity: number;
  /** Executions dispatched to the node and not yet finished. */
  active: number;
}

export interface DispatchCandidate {
  taskId: string;
  orgId: string;
  /** The node the task asked for, if any. */
  nodeId: string | null;
}

export interface Assignment {
  taskId: string;
  nodeId: string;
}

/**
 * Places tasks (already in dispatch order: priority, then age) on nodes with free slots. A task
 * with a node goes only there; one without goes to the least-loaded node of its organisation.
 * A node never gets more active executions than its capacity; what cannot be placed waits.
 */
export function assignTasksToNodes(
  candidates: readonly DispatchCandidate[],
  nodes: readonly NodeSlots[],
): Assignment[] {
  const load = new Map(nodes.map((node) => [node.id, { ...node }]));
  const assignments: Assignment[] = [];
  for (const task of candidates) {
    const node = task.nodeId ? pinnedNode(load, task) : leastLoadedNode(load, task.orgId);
    if (!node) continue;
    node.active += 1;
    assignments.push({ taskId: task.taskId, nodeId: node.id });
  }
  return assignments;
}

function hasFreeSlot(node: NodeSlots): boolean {
  return node.active < node.capacity;
}

function pinnedNode(load: Map<string, NodeSlots>, task: DispatchCandidate): NodeSlots | undefined {
  const node = task.nodeId ? load.get(task.nodeId) : undefined;
  return node && node.orgId === task.orgId && hasFreeSlot(node) ? node : undefined;
}

function leastLoadedNode(load: Map<string, NodeSlots>, orgId: string): NodeSlots | undefined {
  let best: NodeSlots | undefined;
  for (const node of load.values()) {
    if (node.orgId !== orgId || !hasFreeSlot(node)) continue;
    if (
      !best ||
      loadRatio(node) < loadRatio(best) ||
      (loadRatio(node) === loadRatio(best) && node.id < best.id)
    ) {
      best = node;
    }
  }
  return best;
}

function loadRatio(node: NodeSlots): number {
  return node.capacity === 0 ? 1 : node.active / node.capacity;
}

const PRIORITY_RANK: Record<TaskPriority, number> = { Low: 0, Normal: 1, High: 2, Critical: 3 };

export function priorityRank(priority: TaskPriority): number {
  return PRIORITY_RANK[priority];
}

export function priorityFromRank(rank: number): TaskPriority {
  const found = (Object.keys(PRIORITY_RANK) as TaskPriority[]).find((p) => PRIORITY_RANK[p] === rank);
  if (!found) throw new Error(`unknown priority rank ${rank}`);
  return found;
}
