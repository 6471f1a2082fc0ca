import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { buildEnvelope, type EnvelopeOf } from '@meridian/contracts/messages/envelope';
import type { LogChunk } from '@meridian/contracts/messages/log-chunk';
import { LOG_LINES_STORED, type LogLinesStored } from '@meridian/contracts/messages/log-lines-stored';
import type { AppDeps } from '../../app/app-deps.js';
import { anonymously, resolveSenders, type Received } from '../../app/resolve-senders.js';
import { OUTBOX_CHANNEL, outboxPart, type NewOutboxMessage } from '../../persistence/outbox.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import {
  findStoredSeqs,
  lockLogSummaries,
  logLinesPart,
  logSummariesPart,
  originKey,
  refusalReasons,
  trimTails,
  type ChunkOrigin,
  type LockedLog,
} from './log-store.writes.js';
import {
  lineBytes,
  logBudget,
  planLogWrites,
  seqsToLookUp,
  type IncomingLine,
  type LogWritePlan,
} from './log-window.js';

export type LogChunkMessage = EnvelopeOf<'LogChunk', LogChunk>;

export const LOG_LINES_STORED_SCHEMA_VERSION = 1;

export type StoreOutcome = 'stored' | 'duplicate' | 'ignored' | 'refused';

export interface StoreResult {
  messageId: string;
  /** `duplicate`: every line of the chunk was seen before (a redelivery); nothing changed. */
  outcome: StoreOutcome;
  /** Why an `ignored` chunk changed nothing, or why a `refused` one was not heard from its sender. */
  reason?: string;
  /** Lines of this chunk received for the first time (stored, or dropped at once by the tail). */
  newLines: number;
}

export interface StoreLogChunksOptions {
  /** EXECUTION_LOG_MAX_BYTES: head and tail together. */
  maxBytes: number;
}

type StoreDeps = Pick<AppDeps, 'dataSource' | 'clock' | 'topology' | 'security'>;

/** Stores chunks whose senders nobody vouches for (a version-1 agent): see `storeReceivedLogChunks`. */
export function storeLogChunks(
  deps: StoreDeps,
  chunks: readonly LogChunkMessage[],
  options: StoreLogChunksOptions,
): Promise<StoreResult[]> {
  return storeReceivedLogChunks(deps, anonymously(chunks), options);
}

/**
 * Stores a batch of log chunks in one transaction. A chunk whose sender may not speak for the node
 * its envelope names (resolve-senders.ts) is `refused` and changes nothing; the others are stored
 * as `storeHeardChunks` says.
 */
export async function storeReceivedLogChunks(
  deps: StoreDeps,
  received: readonly Received<LogChunkMessage>[],
  options: StoreLogChunksOptions,
): Promise<StoreResult[]> {
  return deps.dataSource.transaction(async (manager) => {
    const decisions = await resolveSenders(
      manager,
      received.map(({ message, sender }) => ({ sender, claim: { nodeId: message.nodeId } })),
      deps.security.requireEnrollment,
    );
    const heard = received.flatMap(({ message }, index) =>
      decisions[index]!.kind === 'accepted' ? [message] : [],
    );
    const stored = heard.length > 0 ? await storeHeardChunks(deps, manager, heard, options) : [];
    const results = new Map(heard.map((chunk, index) => [chunk, stored[index]!]));
    return received.map(({ message }, index) => {
      const decision = decisions[index]!;
      return decision.kind === 'refused'
        ? { messageId: message.messageId, outcome: 'refused', reason: decision.reason, newLines: 0 }
        : results.get(message)!;
    });
  });
}

/**
 * Stores chunks from senders already heard, in the caller's transaction: each execution's log
 * summary locked, new lines placed in its head or tail (a line seen before changes nothing), the
 * tail trimmed to its budget, and one `LogLinesStored` outbox row per execution with every new
 * line, for live viewers.
 * A chunk about an unknown execution, or not sent by the execution's node (another organisation's,
 * for instance), is ignored with the reason. Lines that arrive after the execution ended are stored.
 */
async function storeHeardChunks(
  deps: StoreDeps,
  manager: EntityManager,
  chunks: readonly LogChunkMessage[],
  options: StoreLogChunksOptions,
): Promise<StoreResult[]> {
  const now = deps.clock.now();
  const budget = logBudget(options.maxBytes);
  const locked = await lockLogSummaries(manager, distinctOrigins(chunks), now);
  const valid = chunks.filter((chunk) => isFromExecutionNode(locked.get(chunk.payload.executionId), chunk));
  const refused = await reasonsForRefused(
    manager,
    chunks.filter((chunk) => !valid.includes(chunk)),
  );

  const byExecution = new Map<string, LogChunkMessage[]>();
  for (const chunk of valid) {
    const own = byExecution.get(chunk.payload.executionId) ?? [];
    own.push(chunk);
    byExecution.set(chunk.payload.executionId, own);
  }
  const lines = new Map([...byExecution].map(([id, own]) => [id, own.flatMap(incomingLines)]));
  const stored = await findStoredSeqs(
    manager,
    [...lines].map(([executionId, own]) => ({
      executionId,
      seqs: seqsToLookUp(locked.get(executionId)!.summary, own),
    })),
  );
  const plans = new Map(
    [...lines].map(([executionId, own]) => [
      executionId,
      planLogWrites(locked.get(executionId)!.summary, own, stored.get(executionId) ?? new Set(), budget),
    ]),
  );

  const changed = [...plans].filter(([, plan]) => plan.accepted.length > 0);
  const messages = changed.map(([executionId, plan]) =>
    liveLinesMessage(deps, locked.get(executionId)!, byExecution.get(executionId)![0]!, plan, now),
  );
  const writes = new WriteBatch()
    .add(
      logLinesPart(
        changed.flatMap(([executionId, plan]) => plan.stored.map((line) => ({ ...line, executionId }))),
      ),
    )
    .add(
      logSummariesPart(
        changed.map(([executionId, plan]) => ({ executionId, summary: plan.summary })),
        now,
      ),
    )
    .add(outboxPart(messages));
  if (messages.length > 0) writes.notify(OUTBOX_CHANNEL);
  await writes.run(manager);
  await trimTails(
    manager,
    changed.filter(([, plan]) => plan.trimTail).map(([executionId]) => executionId),
    budget.tailBytes,
  );

  return chunks.map((chunk) => resultOf(chunk, refused, plans));
}

function originOf(chunk: LogChunkMessage): ChunkOrigin {
  return { executionId: chunk.payload.executionId, taskId: chunk.payload.taskId, nodeId: chunk.nodeId };
}

function distinctOrigins(chunks: readonly LogChunkMessage[]): ChunkOrigin[] {
  return [...new Map(chunks.map((chunk) => [originKey(originOf(chunk)), originOf(chunk)])).values()];
}

function isFromExecutionNode(log: LockedLog | undefined, chunk: LogChunkMessage): boolean {
  return log !== undefined && log.taskId === chunk.payload.taskId && log.nodeId === chunk.nodeId;
}

async function reasonsForRefused(
  manager: EntityManager,
  refused: readonly LogChunkMessage[],
): Promise<Map<LogChunkMessage, string>> {
  if (refused.length === 0) return new Map();
  const reasons = await refusalReasons(manager, distinctOrigins(refused));
  return new Map(refused.map((chunk) => [chunk, reasons.get(originKey(originOf(chunk))) ?? 'refused']));
}

/**
 * The chunk's lines as the store counts them. PostgreSQL text cannot hold NUL, which programs do
 * print: it becomes U+FFFD rather than failing the batch.
 */
function incomingLines(chunk: LogChunkMessage): IncomingLine[] {
  return chunk.payload.lines.map((line, index) => {
    const text = line.text.includes('\u0000') ? line.text.replaceAll('\u0000', '\uFFFD') : line.text;
    return {
      seq: line.seq,
      stream: line.stream,
      ts: new Date(line.ts).toISOString(),
      text,
      bytes: lineBytes(text),
      droppedBeforeBytes: index === 0 ? chunk.payload.droppedBytes : 0,
    };
  });
}

function liveLinesMessage(
  deps: StoreDeps,
  log: LockedLog,
  first: LogChunkMessage,
  plan: LogWritePlan,
  now: Date,
): NewOutboxMessage {
  const messageId = randomUUID();
  const payload: LogLinesStored = {
    executionId: log.executionId,
    orgId: log.orgId,
    lines: plan.accepted.map(({ seq, stream, ts, text }) => ({ seq, stream, ts, text })),
    gaps: plan.agentGaps,
  };
  return {
    messageId,
    exchange: deps.topology.liveLogsExchange,
    routingKey: deps.topology.liveLogKey(log.executionId),
    type: LOG_LINES_STORED,
    correlationId: first.correlationId,
    body: buildEnvelope(
      LOG_LINES_STORED,
      LOG_LINES_STORED_SCHEMA_VERSION,
      { messageId, occurredAt: now, correlationId: first.correlationId, nodeId: first.nodeId },
      payload,
    ),
  };
}

function resultOf(
  chunk: LogChunkMessage,
  refused: ReadonlyMap<LogChunkMessage, string>,
  plans: ReadonlyMap<string, LogWritePlan>,
): StoreResult {
  const reason = refused.get(chunk);
  if (reason !== undefined) return { messageId: chunk.messageId, outcome: 'ignored', reason, newLines: 0 };
  const plan = plans.get(chunk.payload.executionId)!;
  const fresh = new Set(plan.accepted.map((line) => line.seq));
  const newLines = chunk.payload.lines.filter((line) => fresh.has(line.seq)).length;
  return { messageId: chunk.messageId, outcome: newLines > 0 ? 'stored' : 'duplicate', newLines };
}
