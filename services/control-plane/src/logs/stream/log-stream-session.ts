import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import {
  LOG_STREAM_CLOSE,
  type LogGap,
  type LogLineView,
  type LogStreamFrame,
} from '@meridian/contracts/api/execution-log';
import type { LogLinesStored } from '@meridian/contracts/messages/log-lines-stored';
import type { Actor } from '../../app/actor.js';
import type { AppDeps } from '../../app/app-deps.js';
import { isExecutionFinished } from '../../domain/execution-status.js';
import { readExecutionLogState, type ExecutionLogState } from './execution-log-state.js';
import type { LiveLogSubscriptions, LiveSubscription } from './live-subscriptions.js';
import { LogFrameSequencer, type GapFrame, type LineFrame } from './log-frame-sequencer.js';
import type { LogStreamSettings, ReadExecutionLog } from './log-stream-settings.js';

export interface LogStreamSessionDeps {
  app: AppDeps;
  readLog: ReadExecutionLog;
  live: LiveLogSubscriptions;
  settings: LogStreamSettings;
  logger: Logger;
  /** Told how many bytes the socket buffers after each send (the server keeps the high-water mark). */
  onBuffered?: (bytes: number) => void;
}

/** How long the stream waits for the broker binding before it relies on polling alone. */
const BIND_TIMEOUT_MS = 5000;
/**
 * A hole in live lines (announcements of two replicas overtaking each other) is usually filled by
 * the late announcement within milliseconds: give it this long before reading the store.
 */
const HOLE_GRACE_MS = 200;
/** Consecutive failed passes (database down) before the stream gives up with 1011. */
const MAX_FAILED_PASSES = 5;

/**
 * One WebSocket client following one execution's log: subscribe to live lines first, then send the
 * stored backlog after `after`, then live lines, each seq once (see LogFrameSequencer). A poll of
 * the execution row notices the end and lines whose live message was lost.
 *
 * Slow clients: a batch (one live message or one store page) is sent whole as long as the socket
 * buffers less than twice `maxBufferedBytes`; when the socket then buffers `maxBufferedBytes` or
 * more (or the batch reached twice the limit), the stream pauses. While paused, lines wait in the
 * sequencer up to `maxBufferedBytes` of text, and newer ones are dropped (the store has them). When
 * the socket has written out half of its buffer, the held lines go out and the stream reads what it
 * dropped from the store. Lines the store no longer holds by then (it keeps a head and a tail) are
 * announced as a gap with reason `slow-client`. So whatever the client does, a socket buffers at
 * most twice the limit plus one frame, and holds at most the limit in lines for it.
 */
export class LogStreamSession {
  readonly executionId: string;
  /** Resolves when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
  /** Cleared by each ping round, set by the pong: a socket that did not answer the last ping is dead. */
  private alive = true;
  private readonly sequencer: LogFrameSequencer;
  private readonly logger: Logger;
  private subscription: LiveSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private working = false;
  private catchUpWanted = true;
  private pollWanted = true;
  /** The socket buffers too much: nothing is sent until it drains. */
  private paused = false;
  /** Lines were dropped since the last store read: read them from the store. */
  private droppedLines = false;
  /** The stream has paused for this client at least once. */
  private wasSlow = false;
  private framesInFlight = 0;
  /**
   * Seqs that live messages brought: lines this process announced to its clients. When the store no
   * longer holds some of them by the time this client reads them, the client missed them by being
   * slow (a client that kept up got them live), so that gap is the client's, not the store's.
   */
  private liveSeen: { from: number; to: number } | undefined;
  private hole: { atSeq: number; since: number } | undefined;
  private endedAt: number | undefined;
  private lastProgressAt = Date.now();
  private holeTimer: NodeJS.Timeout | undefined;
  private truncatedBytes = 0;
  /** The store's highest seq at the previous poll (-1 before the first). */
  private storedAtLastPoll = -1;
  private failedPasses = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: LogStreamSessionDeps,
    private readonly actor: Actor,
    executionId: string,
    after: number,
  ) {
    this.executionId = executionId;
    this.logger = deps.logger.child({ executionId, correlationId: actor.correlationId });
    const maxPendingBytes = Math.max(deps.settings.maxBufferedBytes, 64 * 1024);
    this.sequencer = new LogFrameSequencer(after, { maxPendingLines: 10_000, maxPendingBytes });
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        this.dispose();
        resolve();
      });
    });
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  /** The highest seq the client has been given. */
  get lastSeq(): number {
    return this.sequencer.lastSeq;
  }

  async start(): Promise<void> {
    this.subscription = this.deps.live.subscribe(this.executionId, (message) => this.onLive(message));
    const bound = await this.subscription.ready(BIND_TIMEOUT_MS);
    if (!bound) this.logger.warn('live log lines are not bound yet; the stream polls the store meanwhile');
    if (this.disposed) return;
    this.pollTimer = setInterval(() => {
      this.pollWanted = true;
      if (this.paused && this.ws.bufferedAmount === 0) this.resume();
      this.wake();
    }, this.deps.settings.pollMs);
    this.wake();
  }

  /** Closes the socket (the server's shutdown uses 1001); the session ends on its 'close' event. */
  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, reason);
    }
    this.dispose();
  }

  /** One ping round: terminates the socket if it missed the previous ping, pings it otherwise. */
  ping(): void {
    if (!this.alive) {
      this.logger.debug('log stream missed a pong; terminating');
      this.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  terminate(): void {
    this.ws.terminate();
    this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.holeTimer);
    this.subscription?.unsubscribe();
    this.sequencer.clearPending();
  }

  private onLive(message: LogLinesStored): void {
    if (this.disposed) return;
    this.noteLive(message);
    this.offer(message.lines, message.gaps);
    if (this.paused) return;
    if (this.sequencer.hasHole && !this.holeTimer) {
      this.holeTimer = setTimeout(() => {
        this.holeTimer = undefined;
        if (!this.sequencer.hasHole) return;
        this.catchUpWanted = true;
        this.wake();
      }, HOLE_GRACE_MS);
    }
  }

  /** Runs passes one at a time until nothing more is wanted. */
  private wake(): void {
    if (this.working || this.disposed) return;
    this.working = true;
    void this.work().finally(() => {
      this.working = false;
    });
  }

  private async work(): Promise<void> {
    while (!this.disposed && (this.catchUpWanted || this.pollWanted)) {
      try {
        if (this.catchUpWanted) {
          this.catchUpWanted = false;
          await this.catchUp();
        }
        if (this.pollWanted) {
          this.pollWanted = false;
          await this.poll();
        }
        this.failedPasses = 0;
      } catch (error) {
        this.failedPasses += 1;
        this.logger.warn({ err: error, failedPasses: this.failedPasses }, 'log stream pass failed');
        if (this.failedPasses >= MAX_FAILED_PASSES) {
          this.close(LOG_STREAM_CLOSE.internalError, 'the log could not be read');
        }
        return; // the next poll tries again
      }
    }
  }

  /** Reads the store from where the client is, while that makes progress. */
  private async catchUp(): Promise<void> {
    const { pageSize } = this.deps.settings;
    for (;;) {
      if (this.paused || this.disposed) return;
      const before = this.sequencer.lastSeq;
      const page = await this.deps.readLog(this.deps.app, this.actor, this.executionId, {
        after: before,
        limit: pageSize,
      });
      if (this.disposed || this.paused) return;
      this.truncatedBytes = page.truncatedBytes;
      this.droppedLines = false;
      this.offer(page.items, page.gaps);
      if (this.sequencer.lastSeq === before) {
        return;
      }
      if (page.nextAfter === null) return;
    }
  }

  private async poll(): Promise<void> {
    const state = await readExecutionLogState(this.deps.app.dataSource, this.actor.orgId, this.executionId);
    if (this.disposed) return;
    if (!state) {
      this.close(LOG_STREAM_CLOSE.internalError, 'the execution is gone');
      return;
    }
    // Lines the store already had at the previous poll and that have not come live since were
    // lost on the way (or this replica was rebinding): read them from the store. Lines stored since
    // the previous poll get one poll interval to come live first, since the store may drop the
    // middle of a long log soon after storing it, and a client that keeps up should see every line.
    const storedAtLastPoll = this.storedAtLastPoll;
    this.storedAtLastPoll = state.storedLastSeq;
    if (!this.paused && Math.min(storedAtLastPoll, state.storedLastSeq) > this.sequencer.lastSeq) {
      await this.catchUp();
    }
    if (this.disposed || this.paused) return;
    const now = Date.now();
    if (this.hole && now - this.hole.since >= this.deps.settings.holeWaitMs) {
      const beforeSeq = this.sequencer.firstPendingSeq;
      this.logger.warn({ afterSeq: this.sequencer.lastSeq, beforeSeq }, 'log lines never arrived');
      if (beforeSeq !== undefined) this.sendGap(this.sequencer.skipTo(beforeSeq, 'agent-dropped', 0));
      this.offer([], []);
    }
    await this.endIfDone(state, now);
  }

  private async endIfDone(state: ExecutionLogState, now: number): Promise<void> {
    if (!isExecutionFinished(state.status)) {
      this.endedAt = undefined;
      return;
    }
    this.endedAt ??= now;
    if (this.sequencer.hasHole || state.storedLastSeq > this.sequencer.lastSeq) return;
    const { holeWaitMs, endGraceMs } = this.deps.settings;
    const quietFor = now - Math.max(this.endedAt, this.lastProgressAt);
    if (state.lastLogSeq !== null) {
      if (this.sequencer.lastSeq < state.lastLogSeq) {
        if (quietFor < holeWaitMs) return;
        this.logger.warn(
          { lastSeq: this.sequencer.lastSeq, lastLogSeq: state.lastLogSeq },
          'last lines missing',
        );
        this.sendGap(this.sequencer.skipTo(state.lastLogSeq + 1, 'agent-dropped', 0));
      }
    } else if (quietFor < endGraceMs) {
      return;
    }
    // One last read for lines stored since the poll and for the store's count of dropped bytes.
    const before = this.sequencer.lastSeq;
    await this.catchUp();
    if (this.disposed || this.paused) return;
    if (state.lastLogSeq === null && this.sequencer.lastSeq !== before) return;
    this.send({
      type: 'end',
      status: state.status,
      exitCode: state.exitCode,
      truncatedBytes: this.truncatedBytes,
    });
    this.logger.debug({ lastSeq: this.sequencer.lastSeq, status: state.status }, 'log stream ended');
    this.close(LOG_STREAM_CLOSE.done, 'execution ended');
  }

  /**
   * Takes a batch of lines (one live message, or one page of the store) and sends what continues
   * the sequence. Unless paused, the batch is sent whole up to twice the limit: what the socket has
   * written out is only counted off at the end of the event-loop turn, so the limit itself checked
   * line by line would stop a client that keeps up. After the batch, a socket that buffers the
   * limit or more pauses the stream. While paused, lines are held in the sequencer within its
   * bounds and the newer ones dropped.
   */
  private offer(lines: readonly LogLineView[], gaps: readonly LogGap[]): void {
    if (this.disposed) return;
    this.sequencer.add([], gaps);
    for (const line of lines) {
      if (this.sequencer.add([line]) > 0) this.droppedLines = true;
      if (!this.paused) this.sendReady();
    }
    if (!this.paused) this.sendReady();
    if (!this.paused && this.ws.bufferedAmount >= this.deps.settings.maxBufferedBytes) this.pause();
    const lastSeq = this.sequencer.lastSeq;
    if (!this.sequencer.hasHole) this.hole = undefined;
    else if (this.hole?.atSeq !== lastSeq) this.hole = { atSeq: lastSeq, since: Date.now() };
  }

  /**
   * Sends the frames that continue the sequence while the socket buffers less than twice the limit
   * (a batch larger than that, an agent chunk of 1,000 long lines say, is not sent whole); past it,
   * the stream pauses and the rest waits in the sequencer, within its bounds.
   */
  private sendReady(): void {
    const hardLimit = 2 * this.deps.settings.maxBufferedBytes;
    while (!this.disposed) {
      if (this.ws.bufferedAmount >= hardLimit) {
        this.pause();
        return;
      }
      const frame = this.sequencer.take();
      if (!frame) return;
      if (frame.type === 'gap') this.sendGap(frame);
      else this.send(frame);
    }
  }

  private sendGap(frame: GapFrame | undefined): void {
    if (!frame) return;
    const live = this.liveSeen;
    const missedLive = live !== undefined && frame.afterSeq < live.to && frame.beforeSeq > live.from;
    if (this.wasSlow && missedLive && frame.reason === 'truncated') {
      this.send({ ...frame, reason: 'slow-client' });
    } else {
      this.send(frame);
    }
  }

  private send(frame: LogStreamFrame | LineFrame): void {
    if (this.disposed) return;
    this.framesInFlight += 1;
    this.ws.send(JSON.stringify(frame), () => {
      this.framesInFlight -= 1;
      const drained =
        this.framesInFlight === 0 || this.ws.bufferedAmount <= this.deps.settings.maxBufferedBytes / 2;
      if (this.paused && drained) this.resume();
    });
    this.deps.onBuffered?.(this.ws.bufferedAmount);
    if (frame.type !== 'end') this.lastProgressAt = Date.now();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.wasSlow = true;
    this.logger.debug(
      { lastSeq: this.sequencer.lastSeq, buffered: this.ws.bufferedAmount },
      'slow client paused',
    );
    // A send callback (or the poll) resumes once the socket has written out half of its buffer.
  }

  private resume(): void {
    if (!this.paused || this.disposed) return;
    this.paused = false;
    this.logger.debug({ lastSeq: this.sequencer.lastSeq }, 'slow client drained');
    this.offer([], []);
    if (this.paused) return;
    if (this.droppedLines || this.sequencer.hasHole) this.catchUpWanted = true;
    this.pollWanted = true;
    this.wake();
  }

  private noteLive(message: LogLinesStored): void {
    if (message.lines.length === 0) return;
    const seqs = message.lines.map((line) => line.seq);
    const first = Math.min(...seqs);
    const last = Math.max(...seqs);
    this.liveSeen = this.liveSeen
      ? { from: Math.min(this.liveSeen.from, first), to: Math.max(this.liveSeen.to, last) }
      : { from: first, to: last };
  }
}
