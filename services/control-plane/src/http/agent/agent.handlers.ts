import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from '../../app/app-deps.js';
import { enrollNode } from '../../app/enrollment/enroll-node.js';
import { rotateNodeCredentials } from '../../app/enrollment/rotate-credentials.js';
import type { HttpEnv } from '../http-env.js';
import { jsonDepthLimit } from '../json-depth-limit.js';
import { buildProblem, problemResponse } from '../problem.js';
import { AGENT_BASIC_AUTH, enrollRoute, rotateCredentialsRoute, signingKeysRoute } from './agent.routes.js';
import { parseBasicAuthorization } from './basic-credentials.js';

/** An enroll request is a token and three short strings: anything larger is refused unread. */
export const AGENT_BODY_MAX_BYTES = 4096;

/** Answers 503 before anything is read or used when enrolled nodes cannot be provisioned. */
function requireBrokerManagement(deps: AppDeps): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (deps.brokerManagement === undefined) {
      return problemResponse(
        c,
        buildProblem('unavailable', {
          detail: 'agent enrollment is not available: the control plane has no BROKER_MANAGEMENT_URL',
        }),
      );
    }
    await next();
  };
}

/**
 * `/agent` operations, called by agents rather than users: mount under `/api/v1` BEFORE the
 * bearer-token middleware. Each proves itself otherwise (enrollment token, broker password) or
 * needs no proof (public keys).
 */
export function createAgentRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();
  router.openAPIRegistry.registerComponent('securitySchemes', AGENT_BASIC_AUTH, {
    type: 'http',
    scheme: 'basic',
    description: 'An enrolled node’s broker username and password',
  });

  router.use(
    '/agent/*',
    bodyLimit({
      maxSize: AGENT_BODY_MAX_BYTES,
      onError: () => {
        throw new HTTPException(413, { message: `the request body exceeds ${AGENT_BODY_MAX_BYTES} bytes` });
      },
    }),
    jsonDepthLimit(),
  );
  router.use('/agent/enroll', requireBrokerManagement(deps));
  router.use('/agent/credentials/rotate', requireBrokerManagement(deps), async (c, next) => {
    await next();
    if (c.res.status === 401)
      c.res.headers.set('WWW-Authenticate', 'Basic realm="meridian-agent", charset="UTF-8"');
  });

  router.openapi(enrollRoute, async (c) => {
    const credentials = await enrollNode(deps, c.req.valid('json'));
    c.header('Cache-Control', 'no-store');
    return c.json(credentials, 201);
  });

  router.openapi(rotateCredentialsRoute, async (c) => {
    const login = parseBasicAuthorization(c.req.header('Authorization'));
    const credentials = await rotateNodeCredentials(deps, login);
    c.header('Cache-Control', 'no-store');
    return c.json(credentials, 200);
  });

  router.openapi(signingKeysRoute, (c) => c.json({ items: [...deps.keyring.publicKeys] }, 200));

  return router;
}
