import type { BrokerManagement } from '../app/broker-management.js';
import { assertNever } from '../domain/assert-never.js';
import type { BrokerOperation } from '../domain/credential-sync.js';
import { RABBIT_HASHING_ALGORITHM } from '../domain/rabbit-password-hash.js';

export interface BrokerManagementOptions {
  /** `http(s)://user:password@host:port[/path]`: BROKER_MANAGEMENT_URL. */
  url: string;
  /** The vhost agents use (BROKER_VHOST). */
  vhost: string;
  /** One request's deadline. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A failed call: `status` is the HTTP status, undefined when the API did not answer at all. */
export class BrokerManagementError extends Error {
  override name = 'BrokerManagementError';
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_TIMEOUT_MS = 3000;
const REASON_MAX_LENGTH = 200;

interface Call {
  method: 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** Statuses that mean "already so" (404 on a delete). */
  alsoFine?: readonly number[];
  headers?: Record<string, string>;
}

/**
 * A client of RabbitMQ's management HTTP API (`fetch`, one deadline per request). The credentials
 * in the URL go only into the Authorization header: errors and logs name the API by host.
 */
export function createBrokerManagement(options: BrokerManagementOptions): BrokerManagement {
  const url = new URL(options.url);
  const authorization = `Basic ${Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64')}`;
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl = options.fetch ?? fetch;
  const vhost = encodeURIComponent(options.vhost);
  const e = encodeURIComponent;

  const send = async ({ method, path, body, alsoFine = [], headers = {} }: Call): Promise<void> => {
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new BrokerManagementError(
        `the broker management API at ${base} did not answer ${what}: ${describeFetchError(error, timeoutMs)}`,
        undefined,
        { cause: error },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.ok || alsoFine.includes(response.status)) return;
    throw new BrokerManagementError(
      `the broker management API at ${base} answered ${what} with ${response.status}${reasonOf(text)}`,
      response.status,
    );
  };

  const callOf = (operation: BrokerOperation): Call => {
    switch (operation.kind) {
      case 'declare-queue':
        return {
          method: 'PUT',
          path: `/api/queues/${vhost}/${e(operation.queue)}`,
          body: { durable: true, auto_delete: false, arguments: operation.arguments },
        };
      case 'bind-queue':
        return {
          method: 'POST',
          path: `/api/bindings/${vhost}/e/${e(operation.exchange)}/q/${e(operation.queue)}`,
          body: { routing_key: operation.routingKey, arguments: {} },
        };
      case 'put-user':
        return {
          method: 'PUT',
          path: `/api/users/${e(operation.username)}`,
          body: {
            password_hash: operation.passwordHash,
            hashing_algorithm: RABBIT_HASHING_ALGORITHM,
            tags: '',
          },
        };
      case 'put-permissions':
        return {
          method: 'PUT',
          path: `/api/permissions/${vhost}/${e(operation.username)}`,
          body: { configure: operation.configure, write: operation.write, read: operation.read },
        };
      case 'put-topic-permissions':
        return {
          method: 'PUT',
          path: `/api/topic-permissions/${vhost}/${e(operation.username)}`,
          body: { exchange: operation.exchange, write: operation.write, read: operation.read },
        };
      case 'delete-user':
        return { method: 'DELETE', path: `/api/users/${e(operation.username)}`, alsoFine: [404] };
      case 'close-connections':
        return {
          method: 'DELETE',
          path: `/api/connections/username/${e(operation.username)}`,
          alsoFine: [404],
          headers: { 'x-reason': 'node revoked' },
        };
      case 'delete-queue':
        return { method: 'DELETE', path: `/api/queues/${vhost}/${e(operation.queue)}`, alsoFine: [404] };
      default:
        return assertNever(operation);
    }
  };

  return { location: base, apply: (operation) => send(callOf(operation)) };
}

/** RabbitMQ answers errors as `{"error": "...", "reason": "..."}`; only the reason is shown, bounded. */
function reasonOf(text: string): string {
  let reason: unknown;
  try {
    const parsed: unknown = JSON.parse(text);
    reason =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as Record<string, unknown>)['reason']
        : undefined;
  } catch {
    reason = undefined;
  }
  if (typeof reason !== 'string' || reason === '') return '';
  return `: ${reason.length > REASON_MAX_LENGTH ? `${reason.slice(0, REASON_MAX_LENGTH)}…` : reason}`;
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
