import { z } from 'zod';

/** RFC 9457 problem details, the body of every error response (`application/problem+json`). */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  correlationId: z.string().optional(),
  errors: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe('The failing fields, for validation errors'),
});
export type Problem = z.infer<typeof ProblemSchema>;
