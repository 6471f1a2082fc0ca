import { describe, expect, it } from 'vitest';
import { defaultManagementUrl, findBrokerManagement } from './find-broker-management.js';

/** A stand-in for `fetch` that records what it was asked and answers `respond`'s result. */
function fakeFetch(respond: () => Response | Promise<Response>) {
  const calls: { url: string; authorization: string | null }[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      authorization: new Headers(init?.headers).get('authorization'),
    });
    return respond();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('defaultManagementUrl', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672', 'http://guest:guest@127.0.0.1:15672'],
    ['amqp://127.0.0.1', 'http://guest:guest@127.0.0.1:15672'],
    ['amqp://ops:s%40cret@rabbit.internal:5673/prod', 'http://ops:s%40cret@rabbit.internal:15672'],
    ['amqps://ops:pw@rabbit.example.com', 'https://ops:pw@rabbit.example.com:15671'],
  ])('%s -> %s', (amqpUrl, expected) => {
    expect(defaultManagementUrl(amqpUrl)).toBe(expected);
  });
});

describe('findBrokerManagement', () => {
  const amqpUrl = 'amqp://ops:s%40cret@127.0.0.1:5672';

  it('is available when an administrator logs in, asking with the AMQP login by default', async () => {
    const { fetch, calls } = fakeFetch(() => json({ name: 'ops', tags: ['administrator'] }));
    const found = await findBrokerManagement({ amqpUrl, fetch });
    expect(found).toEqual({ available: true, url: 'http://ops:s%40cret@127.0.0.1:15672' });
    expect(calls).toEqual([
      {
        url: 'http://127.0.0.1:15672/api/whoami',
        authorization: `Basic ${Buffer.from('ops:s@cret').toString('base64')}`,
      },
    ]);
  });

  it('asks the configured URL instead, under its path prefix, and reads tags written as a string', async () => {
    const { fetch, calls } = fakeFetch(() => json({ name: 'admin', tags: 'management,administrator' }));
    const configuredUrl = 'https://admin:pw@mq.example.com/rabbitmq/';
    const found = await findBrokerManagement({ amqpUrl, configuredUrl, fetch });
    expect(found).toEqual({ available: true, url: configuredUrl });
    expect(calls[0]?.url).toBe('https://mq.example.com/rabbitmq/api/whoami');
  });

  it.each([
    [
      'nothing listens',
      () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })),
      /nothing answered at http:\/\/ops:\*\*\*@127\.0\.0\.1:15672 \(ECONNREFUSED\)/,
    ],
    ['the login is refused', () => json({ error: 'not_authorised' }, 401), /refused the login of "ops"/],
    [
      'the user is no administrator',
      () => json({ name: 'ops', tags: ['monitoring'] }),
      /"ops" is not an administrator .*cannot create the per-node users/,
    ],
    ['something else answers', () => new Response('<html>', { status: 200 }), /does not look like/],
    ['an error status', () => new Response('', { status: 503 }), /answered 503/],
  ])('is not available when %s, and says why without the password', async (_case, respond, reason) => {
    const { fetch } = fakeFetch(respond);
    const found = await findBrokerManagement({ amqpUrl, fetch });
    expect(found.available).toBe(false);
    const why = found.available ? '' : found.reason;
    expect(why).toMatch(reason);
    expect(why).not.toContain('s%40cret');
    expect(why).not.toContain('s@cret');
  });
});
