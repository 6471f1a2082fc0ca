import { redactUrl } from './infra.js';

/**
 * Whether the broker's management API can provision per-node users: what `npm start` asks before it
 * enrolls the local agent (per-node credentials, signed commands) or falls back to development mode
 * (the shared login). Provisioning needs an administrator: creating users and setting permissions
 * is what the control plane does there.
 */
export type BrokerManagement =
  { available: true; url: string } | { available: false; url: string; reason: string };

export const DEFAULT_MANAGEMENT_PORT = 15672;
const DEFAULT_MANAGEMENT_TLS_PORT = 15671;

/**
 * Where the management API of the broker at `amqpUrl` answers by default: the same host and login
 * (guest/guest when the URL has none, as AMQP clients assume), on port 15672 (15671 over TLS).
 */
export function defaultManagementUrl(amqpUrl: string): string {
  const amqp = new URL(amqpUrl);
  const tls = amqp.protocol === 'amqps:';
  const url = new URL(
    `${tls ? 'https' : 'http'}://${amqp.hostname}:${tls ? DEFAULT_MANAGEMENT_TLS_PORT : DEFAULT_MANAGEMENT_PORT}`,
  );
  url.username = amqp.username || 'guest';
  url.password = amqp.password || 'guest';
  return url.toString().replace(/\/$/, '');
}

export interface FindBrokerManagementOptions {
  amqpUrl: string;
  /** BROKER_MANAGEMENT_URL when set: tried instead of the default. */
  configuredUrl?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Asks `GET /api/whoami` with the login in the URL; never throws. */
export async function findBrokerManagement(options: FindBrokerManagementOptions): Promise<BrokerManagement> {
  const url = options.configuredUrl || defaultManagementUrl(options.amqpUrl);
  const shown = redactUrl(url).replace(/\/$/, '');
  let target: URL;
  try {
    target = new URL(url);
    // The API may sit under a path prefix (management.path_prefix).
    target.pathname = `${target.pathname.replace(/\/$/, '')}/api/whoami`;
  } catch {
    return { available: false, url, reason: `${shown} is not a URL` };
  }
  const login = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
  const user = decodeURIComponent(target.username);
  target.username = '';
  target.password = '';
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(target, {
      headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
    });
  } catch (error) {
    return { available: false, url, reason: `nothing answered at ${shown} (${describeFailure(error)})` };
  }
  if (response.status === 401) {
    await response.body?.cancel();
    return { available: false, url, reason: `the management API at ${shown} refused the login of "${user}"` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { available: false, url, reason: `${shown}/api/whoami answered ${response.status}` };
  }
  let tags: string[];
  try {
    tags = tagsOf(await response.json());
  } catch {
    return { available: false, url, reason: `${shown} does not look like the RabbitMQ management API` };
  }
  if (!tags.includes('administrator')) {
    return {
      available: false,
      url,
      reason: `"${user}" is not an administrator of ${shown}: it cannot create the per-node users`,
    };
  }
  return { available: true, url };
}

/** RabbitMQ 3.9+ lists tags as an array; older versions as one comma-separated string. */
function tagsOf(body: unknown): string[] {
  const tags = (body as { tags?: unknown } | null)?.tags;
  if (Array.isArray(tags)) return tags.map(String);
  if (typeof tags === 'string') return tags.split(',').map((tag) => tag.trim());
  throw new Error('no tags');
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return error instanceof Error ? error.message : String(error);
}
