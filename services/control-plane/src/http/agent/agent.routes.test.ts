import { describe, expect, it } from 'vitest';
import type { BrokerManagement } from '../../app/broker-management.js';
import { PROBLEM_CONTENT_TYPE } from '../problem.js';
import { createTestApp } from '../test-app.js';
import { AGENT_BODY_MAX_BYTES } from './agent.handlers.js';

/**
 * The agent routes refused before any database work: the test app has no database, so each of
 * these answers proves the refusal is cheap.
 */
const management: BrokerManagement = { location: 'http://broker', apply: () => Promise.resolve() };
const app = createTestApp({}, undefined, { brokerManagement: management });
const appWithoutManagement = createTestApp();
const WELL_FORMED_TOKEN = `mte_${'a'.repeat(43)}`;

function post(target: ReturnType<typeof createTestApp>, path: string, body: string, headers = {}) {
  return target.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
}

describe('POST /api/v1/agent/enroll', () => {
  it('answers 503 when the control plane cannot provision broker users, before reading the token', async () => {
    const response = await post(appWithoutManagement, '/api/v1/agent/enroll', JSON.stringify({ token: 'x' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(((await response.json()) as { detail: string }).detail).toContain('BROKER_MANAGEMENT_URL');
  });

  it.each([['mte_short'], [`${'x'.repeat(47)}`], [`mte_${'a'.repeat(42)}!`]])(
    'answers 401 for a token we cannot have issued (%s) without the database',
    async (token) => {
      const response = await post(app, '/api/v1/agent/enroll', JSON.stringify({ token }));
      expect(response.status).toBe(401);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toBe(
        'the enrollment token is not valid: it is unknown, expired, revoked or used up',
      );
    },
  );

  it('needs no bearer token (a well-formed token reaches the database)', async () => {
    const response = await post(app, '/api/v1/agent/enroll', JSON.stringify({ token: WELL_FORMED_TOKEN }));
    // The test app's database refuses every use: the request got past authentication and validation.
    expect(response.status).toBe(500);
  });

  it.each([
    [{}, 'body.token'],
    [{ token: '' }, 'body.token'],
    [{ token: 'x'.repeat(201) }, 'body.token'],
    [{ token: WELL_FORMED_TOKEN, orgId: 'org-x' }, 'body.orgId'],
    [{ token: WELL_FORMED_TOKEN, nodeId: 'n' }, 'body.nodeId'],
    [{ token: WELL_FORMED_TOKEN, protocolVersion: 'two' }, 'body.protocolVersion'],
    [{ token: WELL_FORMED_TOKEN, hostname: 'x'.repeat(201) }, 'body.hostname'],
  ])('refuses %o naming %s', async (body, field) => {
    const response = await post(app, '/api/v1/agent/enroll', JSON.stringify(body));
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((error) => error.field)).toContain(field);
  });

  it('refuses a body over a few KiB unread', async () => {
    const body = JSON.stringify({ token: WELL_FORMED_TOKEN, hostname: 'x'.repeat(AGENT_BODY_MAX_BYTES) });
    const response = await post(app, '/api/v1/agent/enroll', body);
    expect(response.status).toBe(413);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('refuses malformed JSON', async () => {
    const response = await post(app, '/api/v1/agent/enroll', '{"token":');
    expect(response.status).toBe(400);
  });
});

describe('POST /api/v1/agent/credentials/rotate', () => {
  it.each([
    [{}],
    [{ Authorization: 'Bearer abc' }],
    [{ Authorization: 'Basic !!!' }],
    [{ Authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }],
  ])('answers 401 asking for Basic credentials without the database (%o)', async (headers) => {
    const response = await post(app, '/api/v1/agent/credentials/rotate', '', headers);
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toBe('Basic realm="meridian-agent", charset="UTF-8"');
  });

  it('answers 503 without a broker management API', async () => {
    const response = await post(appWithoutManagement, '/api/v1/agent/credentials/rotate', '');
    expect(response.status).toBe(503);
  });
});

describe('GET /api/v1/agent/signing-keys', () => {
  it('lists the public keys without authentication', async () => {
    const response = await app.request('/api/v1/agent/signing-keys');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      items: { keyId: string; algorithm: string; publicKey: string }[];
    };
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ algorithm: 'Ed25519' });
    expect(body.items[0]!.publicKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});
