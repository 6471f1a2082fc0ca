import { z } from 'zod';
import { NodeLabelsSchema } from '../messages/agent-heartbeat.js';
import { identifierText, int4 } from '../storable.js';
import { EnrolledNodeIdSchema } from '../security/node-identity.js';

/** Enrollment tokens live at most this long. */
export const ENROLLMENT_MAX_TTL_SECONDS = 7 * 24 * 3600;
export const ENROLLMENT_DEFAULT_TTL_SECONDS = 3600;
export const ENROLLMENT_MAX_USES = 1000;

/**
 * `POST /api/v1/nodes/enrollments` (permission `node:admin`): a one-time, short-lived token that
 * an agent exchanges for credentials of its own. Either a node id (one use), or a name prefix: each
 * use enrolls a new node `<namePrefix>-<8 random characters>`.
 */
export const CreateEnrollmentSchema = z
  .object({
    nodeId: EnrolledNodeIdSchema.optional(),
    namePrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_-]{0,90}$/,
        'letters, digits, "_" and "-", at most 91, not starting with a sign',
      )
      .optional(),
    labels: NodeLabelsSchema.default({}),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(ENROLLMENT_MAX_TTL_SECONDS)
      .default(ENROLLMENT_DEFAULT_TTL_SECONDS),
    maxUses: z.number().int().min(1).max(ENROLLMENT_MAX_USES).default(1),
  })
  .strict()
  .refine((body) => (body.nodeId === undefined) !== (body.namePrefix === undefined), {
    message: 'give exactly one of nodeId and namePrefix',
    path: ['nodeId'],
  })
  .refine((body) => body.nodeId === undefined || body.maxUses === 1, {
    message: 'an enrollment for one node id is used once',
    path: ['maxUses'],
  });
export type CreateEnrollment = z.infer<typeof CreateEnrollmentSchema>;

export const EnrollmentSchema = z.object({
  id: z.uuid(),
  orgId: z.string(),
  nodeId: z.string().nullable(),
  namePrefix: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  maxUses: z.number().int(),
  uses: z.number().int(),
  expiresAt: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  /** active, used-up, expired or revoked. */
  status: z.enum(['active', 'used-up', 'expired', 'revoked']),
});
export type Enrollment = z.infer<typeof EnrollmentSchema>;

/** The answer to a creation: the only time the token itself is shown. */
export const CreatedEnrollmentSchema = EnrollmentSchema.extend({ token: z.string() });
export type CreatedEnrollment = z.infer<typeof CreatedEnrollmentSchema>;

/** `POST /api/v1/agent/enroll`: no bearer token; the enrollment token is the credential. */
export const EnrollRequestSchema = z
  .object({
    token: z.string().min(1).max(200),
    agentVersion: identifierText(50).optional(),
    protocolVersion: int4(1).optional(),
    hostname: identifierText(200).optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const SigningPublicKeySchema = z.object({
  keyId: z.string().min(1).max(100),
  algorithm: z.literal('Ed25519'),
  /** SPKI DER, base64. */
  publicKey: z.string().min(1).max(1000),
});

/** What an agent gets for its enrollment token (and again, with a new password, on rotation). */
export const AgentCredentialsSchema = z.object({
  nodeId: z.string(),
  /** Decided by the control plane from the enrollment, never claimed by the agent. */
  orgId: z.string(),
  topologyPrefix: z.string(),
  broker: z.object({ username: z.string(), password: z.string() }),
  signingKeys: z.array(SigningPublicKeySchema).min(1),
  labels: z.record(z.string(), z.string()),
  issuedAt: z.string(),
});
export type AgentCredentials = z.infer<typeof AgentCredentialsSchema>;

/** `GET /api/v1/agent/signing-keys`: the public keys agents must accept commands from. */
export const SigningKeyListSchema = z.object({ items: z.array(SigningPublicKeySchema) });

/** `GET /api/v1/nodes/enrollments`: newest first; `cursor` is the `nextCursor` of the page before. */
export const ListEnrollmentsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'the nextCursor of a previous page')
    .optional(),
});
export type ListEnrollmentsQuery = z.infer<typeof ListEnrollmentsQuerySchema>;

export const EnrollmentListSchema = z.object({
  items: z.array(EnrollmentSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type EnrollmentList = z.infer<typeof EnrollmentListSchema>;
