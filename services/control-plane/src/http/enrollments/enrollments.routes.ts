import { createRoute, z } from '@hono/zod-openapi';
import {
  CreatedEnrollmentSchema,
  CreateEnrollmentSchema,
  EnrollmentListSchema,
  EnrollmentSchema,
  ListEnrollmentsQuerySchema,
} from '@meridian/contracts/api/enrollment';
import { decodePageCursor } from '../../domain/page-cursor.js';
import { requiresPermission } from '../authorize.js';
import { problemDoc } from '../extra-problems.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const CreateEnrollment = CreateEnrollmentSchema.openapi('CreateEnrollment');
const Enrollment = EnrollmentSchema.openapi('Enrollment');
const CreatedEnrollment = CreatedEnrollmentSchema.openapi('CreatedEnrollment');
const EnrollmentList = EnrollmentListSchema.openapi('EnrollmentList');

const EnrollmentIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Enrollment id (UUID)' }),
});

const ListQuery = ListEnrollmentsQuerySchema.refine(
  (query) => query.cursor === undefined || decodePageCursor(query.cursor) !== null,
  { message: 'not the nextCursor of a previous page', path: ['cursor'] },
);

const SCOPE = 'Needs `node:admin`. Enrollments of another organisation are a 404.';

export const createEnrollmentRoute = createRoute({
  method: 'post',
  path: '/nodes/enrollments',
  operationId: 'createEnrollment',
  tags: ['Nodes'],
  summary: 'Create a one-time, short-lived token an agent exchanges for credentials of its own',
  description:
    `${SCOPE} Give \`nodeId\` (one use) or \`namePrefix\` (each use enrolls a node ` +
    '`<namePrefix>-<8 random characters>`, up to `maxUses`). The token is in this answer only: ' +
    'the control plane keeps its SHA-256. 409 when the node id belongs to another organisation.',
  security: bearerSecurity,
  ...requiresPermission('node:admin'),
  request: { body: { required: true, content: json(CreateEnrollment) } },
  responses: {
    201: {
      description: 'Created; `token` is shown this once. `Location` points at the enrollment.',
      headers: z.object({ Location: z.string() }),
      content: json(CreatedEnrollment),
    },
    ...problemResponses(400, 401, 403),
    409: problemDoc('The node id is not available'),
  },
});

export const listEnrollmentsRoute = createRoute({
  method: 'get',
  path: '/nodes/enrollments',
  operationId: 'listEnrollments',
  tags: ['Nodes'],
  summary: 'List the enrollments of the caller’s organisation, newest first',
  description: `${SCOPE} Pass \`nextCursor\` as \`cursor\` for the next page.`,
  security: bearerSecurity,
  ...requiresPermission('node:admin'),
  request: { query: ListQuery },
  responses: {
    200: { description: 'One page of enrollments', content: json(EnrollmentList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getEnrollmentRoute = createRoute({
  method: 'get',
  path: '/nodes/enrollments/{id}',
  operationId: 'getEnrollment',
  tags: ['Nodes'],
  summary: 'Get an enrollment (never its token)',
  description: SCOPE,
  security: bearerSecurity,
  ...requiresPermission('node:admin'),
  request: { params: EnrollmentIdParams },
  responses: {
    200: { description: 'The enrollment', content: json(Enrollment) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const revokeEnrollmentRoute = createRoute({
  method: 'delete',
  path: '/nodes/enrollments/{id}',
  operationId: 'revokeEnrollment',
  tags: ['Nodes'],
  summary: 'Revoke an enrollment token: it enrolls no more nodes',
  description:
    `${SCOPE} Nodes it enrolled keep their credentials (revoke them with \`DELETE /nodes/{id}\`). ` +
    'Revoking a revoked token answers it again.',
  security: bearerSecurity,
  ...requiresPermission('node:admin'),
  request: { params: EnrollmentIdParams },
  responses: {
    200: { description: 'The enrollment, revoked', content: json(Enrollment) },
    ...problemResponses(400, 401, 403, 404),
  },
});
