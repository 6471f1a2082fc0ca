import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { handlerContext } from '../testing/handler-context.js';
import { healthCheckHandler, HealthCheckPayloadSchema } from './health-check.js';

// Local servers only: the probes themselves, no broker.
const servers: Array<{ close(callback: () => void): unknown }> = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

async function listen<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function unusedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function probe(payload: unknown) {
  const { ctx, controller } = handlerContext(HealthCheckPayloadSchema.parse(payload));
  return { result: healthCheckHandler.run(ctx), controller };
}

describe('HealthCheck handler', () => {
  it('passes when the TCP port answers', async () => {
    const port = await listen(createTcpServer((socket) => socket.end()));
    const { result } = probe({ tcp: { host: '127.0.0.1', port } });
    await expect(result).resolves.toMatchObject({
      status: 'completed',
      result: { latencyMs: expect.any(Number) as unknown },
    });
  });

  it('fails, retryable, when nothing listens', async () => {
    const { result } = probe({ tcp: { host: '127.0.0.1', port: await unusedPort() } });
    const outcome = await result;
    expect(outcome).toMatchObject({ status: 'failed', retryable: true });
    expect(outcome.status === 'failed' && outcome.error).toContain('ECONNREFUSED');
  });

  it.each([
    [200, undefined, 'completed'],
    [302, undefined, 'completed'],
    [503, undefined, 'failed'],
    [204, 204, 'completed'],
    [200, 204, 'failed'],
  ])('HTTP %i with expectStatus %s: %s', async (status, expectStatus, expected) => {
    const port = await listen(createHttpServer((_request, response) => response.writeHead(status).end()));
    const { result } = probe({ http: { url: `http://127.0.0.1:${port}/health`, expectStatus } });
    const outcome = await result;
    expect(outcome.status).toBe(expected);
    if (outcome.status === 'completed') expect(outcome.result).toMatchObject({ status });
    else
      expect(outcome).toMatchObject({
        retryable: true,
        error: expect.stringContaining(`HTTP ${status}`) as unknown,
      });
  });

  it('fails, retryable, when the answer takes longer than timeoutMs', async () => {
    const port = await listen(createHttpServer(() => undefined)); // never answers
    const outcome = await probe({ http: { url: `http://127.0.0.1:${port}/` }, timeoutMs: 200 }).result;
    expect(outcome).toMatchObject({
      status: 'failed',
      retryable: true,
      error: 'health check failed: no answer within 200 ms',
    });
  });
});
