import { connect } from 'node:net';
import {
  HealthCheckPayloadSchema,
  type HealthCheckPayload,
} from '@meridian/contracts/task-types/basic-tasks';
import type { HandlerResult, TaskHandler } from './handler.js';

export { HealthCheckPayloadSchema, type HealthCheckPayload };

/** Probes a TCP port or an HTTP URL from this node. A failed probe is retryable. */
export const healthCheckHandler: TaskHandler<HealthCheckPayload> = {
  type: 'HealthCheck',
  payloadSchema: HealthCheckPayloadSchema,
  async run(ctx): Promise<HandlerResult> {
    ctx.started();
    const { payload } = ctx;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(payload.timeoutMs)]);
    const startedAt = performance.now();
    const latencyMs = () => Math.round(performance.now() - startedAt);
    try {
      if (payload.tcp) {
        await probeTcp(payload.tcp.host, payload.tcp.port, signal);
        return { status: 'completed', exitCode: 0, result: { latencyMs: latencyMs() } };
      }
      if (payload.http) {
        const response = await fetch(payload.http.url, { signal, redirect: 'manual' });
        await response.body?.cancel();
        const { expectStatus } = payload.http;
        const ok = expectStatus === undefined ? response.status < 400 : response.status === expectStatus;
        if (ok)
          return {
            status: 'completed',
            exitCode: 0,
            result: { latencyMs: latencyMs(), status: response.status },
          };
        const expected = expectStatus === undefined ? 'a 2xx or 3xx' : String(expectStatus);
        return {
          status: 'failed',
          error: `HTTP ${response.status}, expected ${expected}`,
          exitCode: null,
          retryable: true,
        };
      }
      return { status: 'failed', error: 'nothing to probe', exitCode: null, retryable: false };
    } catch (error) {
      const timedOut = signal.aborted && !ctx.signal.aborted;
      const reason = timedOut ? `no answer within ${payload.timeoutMs} ms` : describeError(error);
      return { status: 'failed', error: `health check failed: ${reason}`, exitCode: null, retryable: true };
    }
  },
};

function probeTcp(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch wraps the socket error ("fetch failed"); its cause says what actually happened.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
