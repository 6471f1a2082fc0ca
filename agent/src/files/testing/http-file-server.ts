import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A local HTTP server for the file tasks' tests (random port): it serves files, with or without
 * ranges, breaks a transfer off once, streams slowly, fails with a status, and records uploads.
 */

export interface FileRoute {
  body: Buffer;
  /** Answers `Accept-Ranges: bytes` and honours `Range` with 206. */
  acceptRanges?: boolean;
  /** The first response sends this many bytes, then the connection is destroyed. */
  dropOnceAfter?: number;
  /** Streams 1 KiB per tick of this many ms (the test aborts meanwhile). */
  slowChunkMs?: number;
  /** Answers this status with no body. */
  status?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  headers: IncomingMessage['headers'];
}

export interface HttpFileServer {
  url(path: string): string;
  route(path: string, route: FileRoute): void;
  /** Bodies received by PUT, by path. */
  uploads: Map<string, Buffer>;
  requests: RecordedRequest[];
  /** Responses still being written (a slow stream the client went away from ends here). */
  openResponses(): number;
  close(): Promise<void>;
}

export async function startHttpFileServer(): Promise<HttpFileServer> {
  const routes = new Map<string, FileRoute>();
  const dropped = new Set<string>();
  const uploads = new Map<string, Buffer>();
  const requests: RecordedRequest[] = [];
  let open = 0;

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requests.push({
      method: request.method ?? '',
      path,
      headers: request.headers,
      ...(request.headers.range ? { range: request.headers.range } : {}),
    });
    if (request.method === 'PUT') return receiveUpload(request, response, (body) => uploads.set(path, body));
    const route = routes.get(path);
    if (!route) return response.writeHead(404).end();
    if (route.status !== undefined) return response.writeHead(route.status).end();
    open++;
    response.once('close', () => open--);
    serveFile(route, request, response, !dropped.has(path) && (dropped.add(path), true));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;

  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    route: (path, route) => routes.set(path, route),
    uploads,
    requests,
    openResponses: () => open,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

function serveFile(route: FileRoute, request: IncomingMessage, response: ServerResponse, first: boolean) {
  const range = route.acceptRanges ? /^bytes=(\d+)-$/.exec(request.headers.range ?? '') : null;
  const start = range ? Number(range[1]) : 0;
  const body = route.body.subarray(start);
  response.writeHead(range ? 206 : 200, {
    'content-length': String(body.length),
    ...(route.acceptRanges ? { 'accept-ranges': 'bytes' } : {}),
    ...(range ? { 'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}` } : {}),
  });
  if (route.dropOnceAfter !== undefined && first) {
    response.write(body.subarray(0, route.dropOnceAfter), () => response.destroy());
    return;
  }
  if (route.slowChunkMs === undefined) return response.end(body);
  let offset = 0;
  const timer = setInterval(() => {
    if (offset >= body.length) {
      clearInterval(timer);
      return response.end();
    }
    response.write(body.subarray(offset, offset + 1024));
    offset += 1024;
  }, route.slowChunkMs);
  response.once('close', () => clearInterval(timer));
}

function receiveUpload(request: IncomingMessage, response: ServerResponse, store: (body: Buffer) => void) {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    store(Buffer.concat(chunks));
    response.writeHead(200).end();
  });
}
