import { describe, expect, it } from 'vitest';
import type { BrokerOperation } from '../domain/credential-sync.js';
import { BrokerManagementError, createBrokerManagement } from './broker-management.js';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function fakeFetch(answer: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const impl: typeof fetch = async (input, init) => {
    const request: Seen = {
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(request);
    return answer(request);
  };
  return { impl, seen };
}

const URL_WITH_SECRET = 'http://admin:s%40cret-pw@rabbit.internal:15672/mgmt/';

describe('createBrokerManagement', () => {
  it.each<[BrokerOperation, string, string, unknown]>([
    [
      { kind: 'put-user', username: 'p.node.a', passwordHash: 'HASH' },
      'PUT',
      '/mgmt/api/users/p.node.a',
      { password_hash: 'HASH', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: '' },
    ],
    [
      { kind: 'put-permissions', username: 'p.node.a', configure: '^$', write: 'w', read: 'r' },
      'PUT',
      '/mgmt/api/permissions/%2F/p.node.a',
      { configure: '^$', write: 'w', read: 'r' },
    ],
    [
      { kind: 'put-topic-permissions', username: 'p.node.a', exchange: 'p.logs', write: 'w', read: '^$' },
      'PUT',
      '/mgmt/api/topic-permissions/%2F/p.node.a',
      { exchange: 'p.logs', write: 'w', read: '^$' },
    ],
    [
      { kind: 'declare-queue', queue: 'p.node.a.work', arguments: { 'x-queue-type': 'classic' } },
      'PUT',
      '/mgmt/api/queues/%2F/p.node.a.work',
      { durable: true, auto_delete: false, arguments: { 'x-queue-type': 'classic' } },
    ],
    [
      { kind: 'bind-queue', exchange: 'p.commands', queue: 'p.node.a.work', routingKey: 'node.a.work' },
      'POST',
      '/mgmt/api/bindings/%2F/e/p.commands/q/p.node.a.work',
      { routing_key: 'node.a.work', arguments: {} },
    ],
    [{ kind: 'delete-user', username: 'p.node.a' }, 'DELETE', '/mgmt/api/users/p.node.a', undefined],
    [
      { kind: 'close-connections', username: 'p.node.a' },
      'DELETE',
      '/mgmt/api/connections/username/p.node.a',
      undefined,
    ],
    [
      { kind: 'delete-queue', queue: 'p.node.a.work' },
      'DELETE',
      '/mgmt/api/queues/%2F/p.node.a.work',
      undefined,
    ],
  ])('%o → %s %s', async (operation, method, path, body) => {
    const { impl, seen } = fakeFetch(() => new Response(null, { status: 204 }));
    await createBrokerManagement({ url: URL_WITH_SECRET, vhost: '/', fetch: impl }).apply(operation);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ url: `http://rabbit.internal:15672${path}`, method });
    expect(seen[0]!.body).toEqual(body);
    expect(seen[0]!.headers['authorization']).toBe(
      `Basic ${Buffer.from('admin:s@cret-pw').toString('base64')}`,
    );
  });

  it('encodes the vhost and names', async () => {
    const { impl, seen } = fakeFetch(() => new Response(null, { status: 201 }));
    const management = createBrokerManagement({ url: 'http://u:p@h:1', vhost: 'tenant/a', fetch: impl });
    await management.apply({ kind: 'delete-queue', queue: 'q #1' });
    expect(seen[0]!.url).toBe('http://h:1/api/queues/tenant%2Fa/q%20%231');
    expect(management.location).toBe('http://h:1');
  });

  it.each([
    [{ kind: 'delete-user', username: 'x' }, 404],
    [{ kind: 'close-connections', username: 'x' }, 404],
    [{ kind: 'delete-queue', queue: 'x' }, 404],
  ] as const)('takes %o answered %i as done', async (operation, status) => {
    const { impl } = fakeFetch(() => new Response('{"error":"Object Not Found"}', { status }));
    await expect(
      createBrokerManagement({ url: URL_WITH_SECRET, vhost: '/', fetch: impl }).apply(operation),
    ).resolves.toBeUndefined();
  });

  it('reports a refusal with the status and reason, never the password', async () => {
    const { impl } = fakeFetch(
      () => new Response('{"error":"not_authorised","reason":"Login failed"}', { status: 401 }),
    );
    const failure = createBrokerManagement({ url: URL_WITH_SECRET, vhost: '/', fetch: impl }).apply({
      kind: 'put-user',
      username: 'p.node.a',
      passwordHash: 'HASH',
    });
    await expect(failure).rejects.toThrow(BrokerManagementError);
    const error = (await failure.catch((e: unknown) => e)) as BrokerManagementError;
    expect(error.status).toBe(401);
    expect(error.message).toBe(
      'the broker management API at http://rabbit.internal:15672/mgmt answered PUT /api/users/p.node.a with 401: Login failed',
    );
    expect(error.message).not.toContain('s@cret');
    expect(error.message).not.toContain('cret-pw');
  });

  it('reports an API that does not answer, without the password', async () => {
    const impl: typeof fetch = () =>
      Promise.reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      );
    const error = (await createBrokerManagement({ url: URL_WITH_SECRET, vhost: '/', fetch: impl })
      .apply({ kind: 'delete-user', username: 'p.node.a' })
      .catch((e: unknown) => e)) as BrokerManagementError;
    expect(error).toBeInstanceOf(BrokerManagementError);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(
      'the broker management API at http://rabbit.internal:15672/mgmt did not answer DELETE /api/users/p.node.a: ECONNREFUSED',
    );
  });

  it('gives up on a request after its deadline', async () => {
    const impl: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error));
      });
    const error = (await createBrokerManagement({
      url: URL_WITH_SECRET,
      vhost: '/',
      timeoutMs: 20,
      fetch: impl,
    })
      .apply({ kind: 'delete-user', username: 'p.node.a' })
      .catch((e: unknown) => e)) as BrokerManagementError;
    expect(error.message).toContain('no answer within 20 ms');
  });
});
