/**
 * The RabbitMQ management HTTP API as tests look through it: which users exist, who is connected,
 * and a user of the test's own (the shared agents' login of protocol version 1, a non-administrator).
 * `managementUrl` carries the login, e.g. `http://guest:guest@127.0.0.1:15673`.
 */
export interface VhostPermissions {
  configure: string;
  write: string;
  read: string;
}

export interface BrokerConnection {
  name: string;
  user: string;
}

/** One request; the answer's status and parsed JSON body (null when empty). */
export async function managementRequest(
  managementUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, managementUrl);
  const authorization = basicAuthorization(url);
  url.username = '';
  url.password = '';
  const response = await fetch(url, {
    method,
    headers: {
      authorization,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** `Basic …` from a URL's user and password (percent-decoded). */
export function basicAuthorization(url: URL): string {
  const login = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(login).toString('base64')}`;
}

/** The connections the broker holds open, of one user when given. */
export async function brokerConnections(managementUrl: string, user?: string): Promise<BrokerConnection[]> {
  const { status, body } = await managementRequest(managementUrl, 'GET', '/api/connections');
  if (status !== 200) throw new Error(`GET /api/connections answered ${status}`);
  const all = (body as Array<{ name: string; user: string }>).map(({ name, user }) => ({ name, user }));
  return user === undefined ? all : all.filter((connection) => connection.user === user);
}

/** Closes one connection, as an operator may (the client sees it forced shut). */
export async function closeBrokerConnection(managementUrl: string, name: string): Promise<void> {
  const path = `/api/connections/${encodeURIComponent(name)}`;
  const { status } = await managementRequest(managementUrl, 'DELETE', path);
  if (status >= 300 && status !== 404) throw new Error(`DELETE ${path} answered ${status}`);
}

export async function brokerUserExists(managementUrl: string, user: string): Promise<boolean> {
  const { status } = await managementRequest(managementUrl, 'GET', `/api/users/${encodeURIComponent(user)}`);
  if (status !== 200 && status !== 404) throw new Error(`GET /api/users/${user} answered ${status}`);
  return status === 200;
}

export async function brokerQueueExists(managementUrl: string, queue: string, vhost = '/'): Promise<boolean> {
  const path = `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
  const { status } = await managementRequest(managementUrl, 'GET', path);
  if (status !== 200 && status !== 404) throw new Error(`GET ${path} answered ${status}`);
  return status === 200;
}

/** Creates (or replaces) a user with a password, tags and permissions on one vhost. */
export async function createBrokerUser(
  managementUrl: string,
  user: { name: string; password: string; tags?: string; permissions: VhostPermissions; vhost?: string },
): Promise<void> {
  const name = encodeURIComponent(user.name);
  const vhost = encodeURIComponent(user.vhost ?? '/');
  const created = await managementRequest(managementUrl, 'PUT', `/api/users/${name}`, {
    password: user.password,
    tags: user.tags ?? '',
  });
  if (created.status >= 300) throw new Error(`PUT /api/users/${user.name} answered ${created.status}`);
  const allowed = await managementRequest(
    managementUrl,
    'PUT',
    `/api/permissions/${vhost}/${name}`,
    user.permissions,
  );
  if (allowed.status >= 300) throw new Error(`PUT /api/permissions answered ${allowed.status}`);
}

/** An AMQP URL for the broker of `amqpUrl` with another login (names and passwords percent-encoded). */
export function amqpUrlAs(amqpUrl: string, username: string, password: string): string {
  const url = new URL(amqpUrl);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.toString();
}
