import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import type { SigningPublicKey } from '@meridian/contracts/security/command-signature';

/**
 * The control plane's agent API (contracts/src/api/enrollment.ts) answering as a test scripts it:
 * one enrollment token, Basic-authenticated rotation, a signing-key list the test changes mid-run.
 * It lets the agent's own tests reach answers the real control plane gives only in states that are
 * slow or impossible to set up from an agent test (keys rolled between two commands, credentials
 * naming another node); every request is recorded. The agent against the real control plane is
 * tested end to end in test/e2e (enrollment, rotation, signed commands, revocation).
 */
export interface ScriptedAgentApi {
  url: string;
  /** The list GET /api/v1/agent/signing-keys answers; change it to roll keys. */
  signingKeys: SigningPublicKey[];
  /** The credentials the next enrollment or rotation hands out (rotation: with a new password). */
  credentials: AgentCredentials;
  /** The token POST /api/v1/agent/enroll accepts, once. */
  token: string;
  requests: Array<{ method: string; path: string; body: unknown; authorization?: string }>;
  requestsTo(path: string): number;
  close(): Promise<void>;
}

const problem = (res: ServerResponse, status: number, title: string) => {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status }));
};
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startScriptedAgentApi(credentials: AgentCredentials): Promise<ScriptedAgentApi> {
  let tokenUsed = false;
  const api: Omit<ScriptedAgentApi, 'url' | 'close'> = {
    signingKeys: [...credentials.signingKeys],
    credentials,
    token: `mte_${randomBytes(16).toString('base64url')}`,
    requests: [],
    requestsTo: (path) => api.requests.filter((request) => request.path === path).length,
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? '';
      api.requests.push({
        method: req.method ?? '',
        path,
        body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      if (req.method === 'GET' && path === '/api/v1/agent/signing-keys') {
        return json(res, 200, { items: api.signingKeys });
      }
      if (req.method === 'POST' && path === '/api/v1/agent/enroll') {
        const token = (body as { token?: unknown } | undefined)?.token;
        if (token !== api.token || tokenUsed) return problem(res, 401, 'the enrollment token is not valid');
        tokenUsed = true;
        return json(res, 201, { ...api.credentials, signingKeys: api.signingKeys });
      }
      if (req.method === 'POST' && path === '/api/v1/agent/credentials/rotate') {
        const { username, password } = api.credentials.broker;
        const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) return problem(res, 401, 'unknown node credentials');
        api.credentials = {
          ...api.credentials,
          broker: { username, password: randomBytes(24).toString('base64url') },
          issuedAt: new Date().toISOString(),
        };
        return json(res, 200, { ...api.credentials, signingKeys: api.signingKeys });
      }
      problem(res, 404, 'not found');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the api has no port');
  return Object.assign(api, {
    url: `http://127.0.0.1:${address.port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
