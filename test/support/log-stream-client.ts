import WebSocket from 'ws';
import type { LogStreamFrame } from '@meridian/contracts/api/execution-log';
import { waitFor } from './wait-for.js';

export interface LogStreamClient {
  frames: LogStreamFrame[];
  /** Line seqs in the order received. */
  seqs(): number[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `predicate` holds for the frames received so far. */
  until(predicate: (frames: readonly LogStreamFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A WebSocket client of `…/logs/stream` that records every frame, for tests and the bench. */
export async function openLogStream(
  baseUrl: string,
  executionId: string,
  token: string,
  options: { after?: number; useSubprotocol?: boolean; onFrame?: (frame: LogStreamFrame) => void } = {},
): Promise<LogStreamClient> {
  const url = new URL(`/api/v1/tasks/executions/${executionId}/logs/stream`, baseUrl.replace(/^http/, 'ws'));
  if (options.after !== undefined) url.searchParams.set('after', String(options.after));
  const socket = options.useSubprotocol
    ? new WebSocket(url, [`bearer.${token}`])
    : new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const frames: LogStreamFrame[] = [];
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as LogStreamFrame;
    frames.push(frame);
    options.onFrame?.(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`log stream refused with HTTP ${response.statusCode}`)),
    );
    socket.once('error', reject);
  });
  return {
    frames,
    seqs: () => frames.flatMap((frame) => (frame.type === 'line' ? [frame.seq] : [])),
    closed,
    until: (predicate, timeoutMs = 30_000) =>
      waitFor(() => predicate(frames), { timeoutMs, intervalMs: 20, description: 'log stream frames' }).then(
        () => undefined,
      ),
    close: () => socket.close(),
  };
}

/** The HTTP status a refused upgrade answers with. */
export async function logStreamRefusal(
  baseUrl: string,
  executionId: string,
  headers: Record<string, string>,
): Promise<number> {
  const url = new URL(`/api/v1/tasks/executions/${executionId}/logs/stream`, baseUrl.replace(/^http/, 'ws'));
  const socket = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', () => undefined);
  });
}
