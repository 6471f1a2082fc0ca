import { z } from 'zod';
import { EnvironmentSchema, noNul } from './common.js';

/** `Command`: runs a program on the node (argv, or one string for `/bin/sh -c` with `shell: true`). */
export const CommandPayloadSchema = z
  .object({
    /** argv (no shell involved), or one string for `/bin/sh -c` when `shell` is true. */
    command: z.union([z.array(noNul('an argument')).min(1), noNul('the command').min(1)], {
      error:
        'expected argv as a non-empty array of strings, e.g. ["ls", "-l"], or one string with "shell": true',
    }),
    shell: z.boolean().optional(),
    cwd: z.string().min(1).optional(),
    env: EnvironmentSchema.optional(),
    /** Stops the process earlier than the task's own deadline. */
    timeoutSeconds: z.number().int().min(1).optional(),
  })
  .superRefine((payload, ctx) => {
    if (typeof payload.command === 'string' && payload.shell !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'a string needs "shell": true; otherwise give argv as an array, e.g. ["ls", "-l"]',
      });
    }
    if (Array.isArray(payload.command) && payload.shell === true) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'with "shell": true, give one string' });
    }
    if (Array.isArray(payload.command) && payload.command[0] === '') {
      ctx.addIssue({ code: 'custom', path: ['command', 0], message: 'the program must not be empty' });
    }
  });
export type CommandPayload = z.infer<typeof CommandPayloadSchema>;

/** `HealthCheck`: probes a TCP port or an HTTP URL from the node. */
export const HealthCheckPayloadSchema = z
  .object({
    tcp: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) }).optional(),
    http: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        /** Expected status; without it any 2xx or 3xx passes. */
        expectStatus: z.number().int().min(100).max(599).optional(),
      })
      .optional(),
    timeoutMs: z.number().int().min(1).max(300_000).default(5_000),
  })
  .refine((payload) => (payload.tcp === undefined) !== (payload.http === undefined), {
    message: 'give exactly one of "tcp": {host, port} or "http": {url, expectStatus?}',
    path: ['tcp'],
  });
export type HealthCheckPayload = z.infer<typeof HealthCheckPayloadSchema>;
/** Result of a HealthCheck that passed (`status`: the HTTP status of an http probe). */
export const HealthCheckResultSchema = z.object({
  latencyMs: z.number().int(),
  status: z.number().int().optional(),
});
export type HealthCheckResult = z.infer<typeof HealthCheckResultSchema>;

/** `Echo`: waits `delayMs` and returns its payload (benchmarks, smoke tests). */
export const EchoPayloadSchema = z.looseObject({
  delayMs: z.number().int().min(0).max(3_600_000).optional(),
});
export type EchoPayload = z.infer<typeof EchoPayloadSchema>;
