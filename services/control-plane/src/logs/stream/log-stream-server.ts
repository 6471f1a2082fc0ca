import type { IncomingMessage, Server } from 'node:http';
import type { ServerType } from '@hono/node-server';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LOG_STREAM_CLOSE } from '@meridian/contracts/api/execution-log';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Actor } from '../../app/actor.js';
import type { AppDeps } from '../../app/app-deps.js';
import { NotFoundError } from '../../domain/errors.js';
import type { Authenticator } from '../../http/auth.js';
import { PermissionDeniedError } from '../../http/auth-errors.js';
import { CORRELATION_HEADER, resolveCorrelationId } from '../../http/correlation.js';
import { mapError } from '../../http/error-handler.js';
import { buildProblem } from '../../http/problem.js';
import { readExecutionLogState } from './execution-log-state.js';
import type { LiveLogSubscriptions } from './live-subscriptions.js';
import type { LogStreamSettings, ReadExecutionLog } from './log-stream-settings.js';
import { LogStreamSession } from './log-stream-session.js';
import { bearerSubprotocol, parseStreamRequest, streamCredential } from './stream-request.js';
import { writeProblemAndClose } from './upgrade-response.js';

export interface LogStreamServerOptions {
  app: AppDeps;
  auth: Authenticator;
  live: LiveLogSubscriptions;
  readLog: ReadExecutionLog;
  settings: LogStreamSettings;
}

export interface LogStreamStats {
  sessions: number;
  /** The most bytes any socket had buffered right after a send (slow-client policy check). */
  maxBufferedBytes: number;
}

export interface LogStreamServer {
  /** The node HTTP server's 'upgrade' listener. Anything but the log stream path gets a 404. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Listens for upgrades on the server `@hono/node-server` started (an HTTP/1.1 server). */
  attach(server: ServerType): void;
  stats(): LogStreamStats;
  /** Refuses new streams (503), closes every open one with 1001 and waits for them, at most `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

const READ_PERMISSION = 'task:read';

type Admission =
  | { kind: 'admitted'; actor: Actor; executionId: string; after: number }
  | { kind: 'refused'; problem: Problem }
  | { kind: 'gone' };

/**
 * `GET /api/v1/tasks/executions/{executionId}/logs/stream`: checks the caller before the upgrade
 * and answers a refusal as plain HTTP problem+json, then hands the socket to a LogStreamSession.
 */
export function createLogStreamServer(options: LogStreamServerOptions): LogStreamServer {
  const logger = options.app.logger.child({ component: 'log-stream' });
  const sessions = new Set<LogStreamSession>();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    // Clients send nothing but control frames; a data frame larger than this closes with 1009.
    maxPayload: 4096,
    // A browser that offered `bearer.<jwt>` fails the connection unless the server selects it.
    handleProtocols: (protocols) => bearerSubprotocol(protocols) ?? false,
  });
  let closing = false;
  let maxBufferedBytes = 0;

  const pingTimer = setInterval(() => {
    for (const session of sessions) session.ping();
  }, options.settings.pingMs);
  pingTimer.unref();

  async function admit(request: IncomingMessage, socket: Duplex, correlationId: string): Promise<Admission> {
    const target = parseStreamRequest(request.url);
    if (target.kind === 'not-a-stream')
      throw new NotFoundError('path', new URL(request.url ?? '/', 'http://x').pathname);
    const credential = streamCredential(
      request.headers.authorization,
      request.headers['sec-websocket-protocol'],
    );
    const actor = await options.auth.verifyBearer(credential, correlationId);
    if (!actor.permissions.has(READ_PERMISSION)) throw new PermissionDeniedError(READ_PERMISSION);
    if (target.kind === 'unknown-execution') throw new NotFoundError('execution', target.executionId);
    if (target.kind === 'bad-after') {
      return { kind: 'refused', problem: buildProblem('validation', { detail: target.detail }) };
    }
    const state = await readExecutionLogState(options.app.dataSource, actor.orgId, target.executionId);
    if (!state) throw new NotFoundError('execution', target.executionId);
    if (closing) throw new ShuttingDownError();
    if (socket.destroyed) return { kind: 'gone' };
    return { kind: 'admitted', actor, executionId: target.executionId, after: target.after };
  }

  function startSession(ws: WebSocket, actor: Actor, executionId: string, after: number) {
    const session = new LogStreamSession(
      ws,
      {
        app: options.app,
        readLog: options.readLog,
        live: options.live,
        settings: options.settings,
        logger,
        onBuffered: (bytes) => {
          maxBufferedBytes = Math.max(maxBufferedBytes, bytes);
        },
      },
      actor,
      executionId,
      after,
    );
    sessions.add(session);
    ws.on('close', () => sessions.delete(session));
    ws.on('error', (error) => logger.debug({ err: error, executionId }, 'log stream socket error'));
    session.start().catch((error: unknown) => {
      logger.error({ err: error, executionId }, 'log stream failed to start');
      session.close(LOG_STREAM_CLOSE.internalError, 'internal error');
    });
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that resets while the token is checked must not crash the process.
    const ignore = (error: Error) => logger.debug({ err: error }, 'upgrade socket error');
    socket.on('error', ignore);
    const header = request.headers[CORRELATION_HEADER.toLowerCase()];
    const correlationId = resolveCorrelationId(typeof header === 'string' ? header : undefined);
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    admit(request, socket, correlationId)
      .then((admitted) => {
        if (admitted.kind === 'gone') return socket.destroy();
        if (admitted.kind === 'refused') {
          return writeProblemAndClose(socket, admitted.problem, {}, { path, correlationId });
        }
        socket.off('error', ignore);
        wss.handleUpgrade(request, socket, head, (ws) => {
          startSession(ws, admitted.actor, admitted.executionId, admitted.after);
        });
      })
      .catch((error: unknown) => {
        const mapped =
          error instanceof ShuttingDownError
            ? { problem: shuttingDownProblem, headers: {}, isServerError: false }
            : mapError(error);
        if (mapped.isServerError) logger.error({ err: error, correlationId, path }, 'log stream refused');
        writeProblemAndClose(socket, mapped.problem, mapped.headers, { path, correlationId });
      });
  }

  return {
    handleUpgrade,

    attach(server) {
      (server as Server).on('upgrade', handleUpgrade);
    },

    stats() {
      return { sessions: sessions.size, maxBufferedBytes };
    },

    async close(timeoutMs = 5000) {
      closing = true;
      clearInterval(pingTimer);
      const open = [...sessions];
      const closed = open.map((session) => session.closed);
      for (const session of open) session.close(LOG_STREAM_CLOSE.goingAway, 'server shutting down');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([Promise.all(closed), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') for (const session of sessions) session.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

class ShuttingDownError extends Error {}

const shuttingDownProblem = {
  type: '/problems/unavailable',
  title: 'Service unavailable',
  status: 503,
  detail: 'the server is shutting down; connect again',
};
