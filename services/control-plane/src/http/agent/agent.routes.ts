import { createRoute } from '@hono/zod-openapi';
import {
  AgentCredentialsSchema,
  EnrollRequestSchema,
  SigningKeyListSchema,
} from '@meridian/contracts/api/enrollment';
import { problemDoc } from '../extra-problems.js';
import { problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const EnrollRequest = EnrollRequestSchema.openapi('EnrollRequest');
const AgentCredentials = AgentCredentialsSchema.openapi('AgentCredentials');
const SigningKeyList = SigningKeyListSchema.openapi('SigningKeyList');

export const AGENT_BASIC_AUTH = 'agentBasicAuth';

const tooLarge = problemDoc('The body is larger than the few KiB an agent request needs');
const unavailable = problemDoc('The control plane has no broker management API (BROKER_MANAGEMENT_URL)');

export const enrollRoute = createRoute({
  method: 'post',
  path: '/agent/enroll',
  operationId: 'enrollAgent',
  tags: ['Agent'],
  summary: 'Exchange an enrollment token for the node’s own credentials',
  description:
    'No bearer token: the enrollment token is the credential. The node id and organisation come ' +
    'from the enrollment, never from the agent. The broker user is provisioned before the answer ' +
    '(within a few seconds; retried in the background if the broker is unreachable). The answer ' +
    'holds the broker password: it is shown once and never stored by the control plane.',
  security: [],
  request: { body: { required: true, content: json(EnrollRequest) } },
  responses: {
    201: { description: 'The node’s credentials', content: json(AgentCredentials) },
    ...problemResponses(400),
    401: problemDoc('The token is unknown, expired, revoked or used up (one answer for all)'),
    409: problemDoc('The node id has been taken by another organisation'),
    413: tooLarge,
    503: unavailable,
  },
});

export const rotateCredentialsRoute = createRoute({
  method: 'post',
  path: '/agent/credentials/rotate',
  operationId: 'rotateAgentCredentials',
  tags: ['Agent'],
  summary: 'Give an enrolled node a new broker password',
  description:
    'HTTP Basic with the node’s current broker username and password. The old password stops ' +
    'working once the broker has the new one; connections already open stay open, so the agent ' +
    'loses no work and moves over at its next reconnect.',
  security: [{ [AGENT_BASIC_AUTH]: [] }],
  responses: {
    200: { description: 'The node’s credentials with the new password', content: json(AgentCredentials) },
    401: problemDoc('Not the username and password of an enrolled, unrevoked node'),
    413: tooLarge,
    503: unavailable,
  },
});

export const signingKeysRoute = createRoute({
  method: 'get',
  path: '/agent/signing-keys',
  operationId: 'listSigningKeys',
  tags: ['Agent'],
  summary: 'The public keys agents accept signed commands from',
  description:
    'No authentication: public keys. An agent that meets a command signed with a key it does not ' +
    'know fetches them again (while a signing key is being rolled, both are listed).',
  security: [],
  responses: { 200: { description: 'Every trusted key', content: json(SigningKeyList) } },
});
