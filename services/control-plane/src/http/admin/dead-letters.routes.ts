import { createRoute, z } from '@hono/zod-openapi';
import {
  BulkRedriveBodySchema,
  BulkRedriveResultSchema,
  DeadLetterListSchema,
  DeadLetterSchema,
  DeadLetterSummarySchema,
  ListDeadLettersQuerySchema,
} from '@meridian/contracts/api/dead-letter';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const DeadLetter = DeadLetterSchema.openapi('DeadLetter');
const DeadLetterSummary = DeadLetterSummarySchema.openapi('DeadLetterSummary');
const DeadLetterList = DeadLetterListSchema.openapi('DeadLetterList');
const BulkRedriveBody = BulkRedriveBodySchema.openapi('BulkRedriveBody');
const BulkRedriveResult = BulkRedriveResultSchema.openapi('BulkRedriveResult');

const DeadLetterIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Dead letter id (UUID)' }),
});

const SCOPE =
  'Needs `admin:dead-letters`. The caller sees the dead letters that name its organisation (through ' +
  'the execution, task or node the message names, else its payload’s `orgId`); those that name none ' +
  'also need `platform:dead-letters`. Any other is a 404.';

export const listDeadLettersRoute = createRoute({
  method: 'get',
  path: '/admin/dead-letters',
  operationId: 'listDeadLetters',
  tags: ['Admin'],
  summary: 'List the messages that landed on the dead-letter queues',
  description: `${SCOPE} Filters: \`queue\`, \`type\` (message type), \`redriven\`, \`from\`/\`to\` (time dead-lettered).`,
  security: bearerSecurity,
  ...requiresPermission('admin:dead-letters'),
  request: { query: ListDeadLettersQuerySchema },
  responses: {
    200: { description: 'One page of dead letters, newest first', content: json(DeadLetterList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getDeadLetterRoute = createRoute({
  method: 'get',
  path: '/admin/dead-letters/{id}',
  operationId: 'getDeadLetter',
  tags: ['Admin'],
  summary: 'Get a dead letter with its headers and body',
  description: SCOPE,
  security: bearerSecurity,
  ...requiresPermission('admin:dead-letters'),
  request: { params: DeadLetterIdParams },
  responses: {
    200: { description: 'The dead letter', content: json(DeadLetter) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const redriveDeadLetterRoute = createRoute({
  method: 'post',
  path: '/admin/dead-letters/{id}/redrive',
  operationId: 'redriveDeadLetter',
  tags: ['Admin'],
  summary: 'Put a dead letter back on the exchange its queue’s consumers read',
  description:
    `${SCOPE} The body is published byte for byte under its original messageId (through the outbox, ` +
    'in the transaction that marks the row re-driven), so a message applied already is not applied ' +
    'twice. If it fails again it lands as a new dead letter. 409 when it was re-driven already or ' +
    'its body was cut.',
  security: bearerSecurity,
  ...requiresPermission('admin:dead-letters'),
  request: { params: DeadLetterIdParams },
  responses: {
    200: { description: 'The dead letter, now marked re-driven', content: json(DeadLetterSummary) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export const bulkRedriveRoute = createRoute({
  method: 'post',
  path: '/admin/dead-letters/redrive',
  operationId: 'redriveDeadLetters',
  tags: ['Admin'],
  summary: 'Re-drive dead letters by ids or by filter, at most 1,000 at a time, in one transaction',
  description:
    `${SCOPE} \`{"ids": [...]}\` answers each id with its outcome (another organisation’s is ` +
    '`not_found`); `{"filter": {...}, "limit": N}` re-drives the oldest N matching dead letters not ' +
    're-driven yet whose body was kept whole.',
  security: bearerSecurity,
  ...requiresPermission('admin:dead-letters'),
  request: { body: { required: true, content: json(BulkRedriveBody) } },
  responses: {
    200: { description: 'What happened to each', content: json(BulkRedriveResult) },
    ...problemResponses(400, 401, 403),
  },
});
