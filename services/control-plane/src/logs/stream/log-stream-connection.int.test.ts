import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LogStreamFrame } from '@meridian/contracts/api/execution-log';
import { waitFor } from '../../../../../test/support/test-context.js';
import {
  createExecution,
  endExecution,
  endOf,
  follow,
  freshOrg,
  gapsOf,
  live,
  main,
  makeLines,
  range,
  SETTINGS,
  startServer,
  store,
  storeAndAnnounce,
  storedLog,
  tokenFor,
  untilLiveBound,
  useLogStreamServer,
} from './log-stream.fixture.js';

useLogStreamServer();

/** The refusal of an upgrade request, read as a plain HTTP response. */
function refusal(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string | undefined; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (_response, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: JSON.parse(text) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const streamPath = (executionId: string, query = '') =>
  `/api/v1/tasks/executions/${executionId}/logs/stream${query}`;

describe('auth before the upgrade', () => {
  it('accepts the token as a bearer.<jwt> subprotocol and selects that protocol', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId);
    const socket = new WebSocket(`${main.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`, [
      'meridian.logs',
      `bearer.${token}`,
    ]);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe(`bearer.${token}`);
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
  });

  it.each([
    ['no token', () => ({}), 401],
    ['a token that does not verify', () => ({ Authorization: 'Bearer not.a.jwt' }), 401],
    ['a subprotocol without a token', () => ({ 'Sec-WebSocket-Protocol': 'bearer.' }), 401],
  ])('answers %s with 401 problem+json and no upgrade', async (_name, headers, status) => {
    const executionId = await createExecution(freshOrg());
    const answer = await refusal(main.baseUrl, streamPath(executionId), headers());
    expect(answer.status).toBe(status);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status, type: '/problems/unauthenticated' });
  });

  it('answers 403 without task:read', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId, ['task:write']);
    const answer = await refusal(main.baseUrl, streamPath(executionId), { Authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 403, body: { type: '/problems/forbidden' } });
  });

  it.each([
    ['another organisation’s execution', async () => streamPath(await createExecution(freshOrg()))],
    ['an unknown execution', () => Promise.resolve(streamPath(randomUUID()))],
    ['a non-UUID id', () => Promise.resolve(streamPath('12345'))],
    ['another path', () => Promise.resolve('/api/v1/tasks')],
  ])('answers 404 for %s', async (_name, path) => {
    const token = await tokenFor(freshOrg());
    const answer = await refusal(main.baseUrl, await path(), { Authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 404, body: { status: 404, type: '/problems/not-found' } });
    expect(answer.body['correlationId']).toEqual(expect.any(String));
  });

  it('answers 400 for a bad after', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId);
    const answer = await refusal(main.baseUrl, streamPath(executionId, '?after=-3'), {
      Authorization: `Bearer ${token}`,
    });
    expect(answer).toMatchObject({ status: 400, body: { type: '/problems/validation' } });
  });
});

describe('slow clients', () => {
  it('never buffers much more than the limit for a client that does not read, and announces what it missed', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const total = 8000;
    const text = (seq: number) => `${seq} `.padEnd(2048, 'x');
    const batch = 100;
    await store(executionId, makeLines(1, 1, text));
    const token = await tokenFor(orgId);
    const url = `${main.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`;
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
    const frames: LogStreamFrame[] = [];
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as LogStreamFrame));
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    // Line 1 is the backlog: once the client has it, the stream has read the store. Each batch
    // below is larger than the store keeps, so a stream still reading its backlog while they are
    // stored would find them already cut to a head and a tail (a 'truncated' gap).
    await waitFor(() => frames.some((frame) => frame.type === 'line' && frame.seq === 1), {
      description: 'the backlog line',
    });
    await untilLiveBound(executionId);
    socket.pause(); // reads nothing from now on: the kernel buffers fill, then the server's

    for (let from = 2; from <= total; from += batch) {
      // 16 MB of output: the store keeps 64 KiB of it (head and tail), the live messages carry all.
      await storeAndAnnounce(executionId, makeLines(from, Math.min(from + batch - 1, total), text));
    }
    // The server has stopped sending to this client before its buffer passed the limit by much.
    await waitFor(() => main.streams.stats().maxBufferedBytes >= SETTINGS.maxBufferedBytes, {
      description: 'the server to fill its buffer for the slow client',
    });
    await endExecution(executionId, total);
    const firstTailSeq = (await storedLog(orgId, executionId, 100)).items[0]?.seq ?? 0;
    expect(firstTailSeq, `first tail seq ${firstTailSeq}`).toBeGreaterThan(7900);
    socket.resume();

    const closeCode = await closed;
    // Printed with a failed assertion below: what the client saw, for diagnosing a rare failure.
    const seen = () => {
      const lineSeqs = frames.flatMap((frame) => (frame.type === 'line' ? [frame.seq] : []));
      return JSON.stringify({
        closeCode,
        firstTailSeq,
        lines: lineSeqs.length,
        head: lineSeqs.slice(0, 3),
        tail: lineSeqs.slice(-3),
        nonLines: frames.filter((frame) => frame.type !== 'line'),
        maxBufferedBytes: main.streams.stats().maxBufferedBytes,
      });
    };
    expect(closeCode, seen()).toBe(1000);
    // The bound of the policy: whatever any send left buffered for this socket stays under twice
    // the limit plus one frame, although each live batch (100 lines of 2 KiB) is larger than that.
    const frameBytes = Buffer.byteLength(JSON.stringify({ type: 'line', ...makeLines(1, 1, text)[0] }));
    const bound = 2 * SETTINGS.maxBufferedBytes + frameBytes;
    expect(batch * frameBytes).toBeGreaterThan(bound);
    expect(main.streams.stats().maxBufferedBytes, seen()).toBeLessThanOrEqual(bound);
    const seqs = frames.flatMap((frame) => (frame.type === 'line' ? [frame.seq] : []));
    const gaps = gapsOf(frames);
    expect(gaps, seen()).toHaveLength(1);
    const gap = gaps[0] as Extract<LogStreamFrame, { type: 'gap' }>;
    // Lines the client missed while slow and the store no longer holds: one gap, then the tail.
    expect(gap, seen()).toMatchObject({ reason: 'slow-client', beforeSeq: firstTailSeq });
    expect(gap.afterSeq, seen()).toBeGreaterThan(100); // it did get the first part before it stopped reading
    expect(seqs, seen()).toEqual([...range(1, gap.afterSeq), ...range(firstTailSeq, total)]);
    expect(endOf(frames)).toMatchObject({ type: 'end', status: 'Completed' });
  });
});

describe('keep-alive, cleanup and shutdown', () => {
  it('leaves no watch behind when the last client of an execution goes', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const watchedBefore = live.watchedExecutions;
    const a = await follow(orgId, executionId);
    const b = await follow(orgId, executionId);
    await waitFor(() => live.watchedExecutions === watchedBefore + 1);
    a.close();
    await a.closed;
    await storeAndAnnounce(executionId, makeLines(1, 3));
    await b.until(() => b.seqs().length === 3);
    expect(live.watchedExecutions).toBe(watchedBefore + 1);
    b.close();
    await b.closed;
    await waitFor(() => live.watchedExecutions === watchedBefore, { description: 'the watch to go' });
  });

  it('pings idle sockets, keeps those that answer and terminates those that do not, then closes with 1001 on shutdown', async () => {
    const server = await startServer({ ...SETTINGS, pingMs: 100 });
    try {
      const orgId = freshOrg();
      const executionId = await createExecution(orgId);
      const token = await tokenFor(orgId);
      const url = `${server.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`;
      const open = (options: WebSocket.ClientOptions) =>
        new Promise<{ socket: WebSocket; closed: Promise<number> }>((resolve, reject) => {
          const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, ...options });
          const closed = new Promise<number>((done) => socket.once('close', (code: number) => done(code)));
          socket.once('open', () => resolve({ socket, closed }));
          socket.once('error', reject);
        });
      const answering = await open({});
      let pings = 0;
      answering.socket.on('ping', () => (pings += 1));
      const silent = await open({ autoPong: false });

      expect(await silent.closed).toBe(1006); // terminated: no close frame
      await waitFor(() => pings >= 4, { description: 'several ping rounds' });
      expect(answering.socket.readyState).toBe(WebSocket.OPEN);

      await server.streams.close();
      expect(await answering.closed).toBe(1001);
      const refused = await refusal(server.baseUrl, streamPath(executionId), {
        Authorization: `Bearer ${token}`,
      });
      expect(refused.status).toBe(503);
    } finally {
      await server.stop();
    }
  });
});
