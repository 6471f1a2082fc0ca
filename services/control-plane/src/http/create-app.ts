import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from '../app/app-deps.js';
import { registerApiDocs } from './api-docs.js';
import type { Authenticator } from './auth.js';
import { authenticate } from './authorize.js';
import { createDeadLetterRouter } from './admin/dead-letters.handlers.js';
import { createAgentRouter } from './agent/agent.handlers.js';
import { correlation } from './correlation.js';
import { errorHandler, handleNotFound } from './error-handler.js';
import { createEnrollmentRouter } from './enrollments/enrollments.handlers.js';
import { createEventRouter } from './events/events.handlers.js';
import { createExecutionRouter } from './executions/executions.handlers.js';
import { createHealthRouter } from './health/health.handlers.js';
import { jsonDepthLimit } from './json-depth-limit.js';
import type { ReadinessCheck } from './health/run-checks.js';
import type { HttpEnv } from './http-env.js';
import { createNodeRouter } from './nodes/nodes.handlers.js';
import { requestLog } from './request-log.js';
import { createRescheduleRouter } from './tasks/reschedule.handlers.js';
import { createTaskRouter } from './tasks/tasks.handlers.js';
import { createBulkRouter } from './bulk/bulk.handlers.js';
import { createRecurringRouter } from './recurring/recurring.handlers.js';
import { createBatchRouter } from './batches/batches.handlers.js';
import { createTemplateRouter } from './templates/templates.handlers.js';
import { validationHook } from './validation-hook.js';

export interface HttpDeps {
  app: AppDeps;
  auth: Authenticator;
  /** Dependencies `/readyz` and `/healthz` check, by name (`postgres`, `rabbitmq`); each rejects when down. */
  readiness: Record<string, ReadinessCheck>;
  serviceName?: string;
  /** True once shutdown has begun: `/readyz` answers 503 so that load balancers stop sending traffic. */
  isShuttingDown?: () => boolean;
  /** How long one readiness check may take before it counts as failed; 2 s by default. */
  readinessTimeoutMs?: number;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** The HTTP API, without a server: `main` serves `app.fetch`, tests call `app.request()`. */
export function createApp(deps: HttpDeps): OpenAPIHono<HttpEnv> {
  const logger = deps.app.logger.child({ component: 'http' });
  const app = new OpenAPIHono<HttpEnv>({ defaultHook: validationHook });

  app.use('*', correlation(logger), requestLog());
  app.onError(errorHandler(logger));
  app.notFound(handleNotFound);

  app.route(
    '/',
    createHealthRouter({
      serviceName: deps.serviceName ?? 'meridian-control-plane',
      readiness: deps.readiness,
      isShuttingDown: deps.isShuttingDown ?? (() => false),
      clock: deps.app.clock,
      checkTimeoutMs: deps.readinessTimeoutMs ?? 2000,
    }),
  );

  // Before the bearer-token middleware: agents prove themselves otherwise (see the router).
  app.route('/api/v1', createAgentRouter(deps.app));
  app.use(
    '/api/v1/*',
    authenticate(deps.auth),
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HTTPException(413, { message: `the request body exceeds ${MAX_BODY_BYTES} bytes` });
      },
    }),
    jsonDepthLimit(),
  );
  // Bulk, recurring, batches, templates and executions first: `/tasks/bulk/…`, `/tasks/recurring/…`,
  // `/tasks/batches/…`, `/tasks/templates/…` and `/tasks/executions/{executionId}` must not be taken for `/tasks/{id}/…`.
  app.route('/api/v1', createBulkRouter(deps.app));
  app.route('/api/v1', createRecurringRouter(deps.app));
  app.route('/api/v1', createBatchRouter(deps.app));
  app.route('/api/v1', createTemplateRouter(deps.app));
  app.route('/api/v1', createExecutionRouter(deps.app));
  app.route('/api/v1', createTaskRouter(deps.app));
  app.route('/api/v1', createRescheduleRouter(deps.app));
  app.route('/api/v1', createEventRouter(deps.app));
  // Enrollments first: `/nodes/enrollments` must not be taken for `/nodes/{id}`.
  app.route('/api/v1', createEnrollmentRouter(deps.app));
  app.route('/api/v1', createNodeRouter(deps.app));
  app.route('/api/v1', createDeadLetterRouter(deps.app));

  registerApiDocs(app);
  return app;
}
