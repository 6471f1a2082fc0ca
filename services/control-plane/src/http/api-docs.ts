import type { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { HttpEnv } from './http-env.js';
import { BEARER_AUTH } from './openapi-schemas.js';

export const OPENAPI_PATH = '/openapi.json';

/** Serves the OpenAPI 3.1 document of every route registered so far, and Swagger UI at `/docs`. */
export function registerApiDocs(app: OpenAPIHono<HttpEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', BEARER_AUTH, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'HS256 or JWKS-signed JWT with `sub`, `org_id` and `permissions` claims',
  });
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: {
      title: 'Meridian Tasks API',
      version: '1.0.0',
      description:
        'Create, follow and cancel tasks run by agents on customer machines. Errors are RFC 9457 ' +
        '`application/problem+json`; every response carries `X-Correlation-Id`.',
    },
    tags: [
      { name: 'Tasks', description: 'Tasks and their audit log' },
      { name: 'Executions', description: 'Attempts of a task on a node' },
      {
        name: 'Nodes',
        description: 'Machines whose agents have announced themselves; enrollment and revocation',
      },
      { name: 'Agent', description: 'Called by agents: enrollment, credential rotation, signing keys' },
      { name: 'Admin', description: 'Dead letters: list, inspect, re-drive' },
      { name: 'Health', description: 'Anonymous probes' },
    ],
  });
  app.get('/docs', swaggerUI({ url: OPENAPI_PATH, title: 'Meridian Tasks API' }));
}
