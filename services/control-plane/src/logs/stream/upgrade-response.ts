import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Problem } from '@meridian/contracts/api/problem';
import { CORRELATION_HEADER } from '../../http/correlation.js';
import { PROBLEM_CONTENT_TYPE } from '../../http/problem.js';

/** How long a refused client has to read the answer before its socket is destroyed anyway. */
const ANSWER_TIMEOUT_MS = 2000;

/**
 * Answers an upgrade request that is refused with a plain HTTP problem+json response on the raw
 * socket (no upgrade happened, so there is no framework response to use), then destroys it.
 */
export function writeProblemAndClose(
  socket: Duplex,
  problem: Problem,
  headers: Record<string, string>,
  request: { path: string; correlationId: string },
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({
    ...problem,
    instance: problem.instance ?? request.path,
    correlationId: problem.correlationId ?? request.correlationId,
  });
  const lines = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `${CORRELATION_HEADER}: ${request.correlationId}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  const timer = setTimeout(() => socket.destroy(), ANSWER_TIMEOUT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
