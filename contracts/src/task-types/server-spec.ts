import { z } from 'zod';
import { linearRegExpProblem } from '../linear-regexp.js';
import { EnvironmentSchema, noNul, RelativePathSchema, ServerIdSchema } from './common.js';

/** Signals a server may be stopped with (its graceful stop method, when it has no console command). */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** How a server is asked to stop before SIGTERM and SIGKILL: a console line, or a signal. */
export const StopMethodSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('command'),
    /** One console line written to the server's stdin, e.g. "stop". */
    command: noNul('the stop command')
      .min(1)
      .max(1000)
      .refine((line) => !/[\r\n]/.test(line), 'one line'),
  }),
  z.object({ type: z.literal('signal'), signal: z.enum(STOP_SIGNALS) }),
]);
export type StopMethod = z.infer<typeof StopMethodSchema>;

/** What the agent does when a server exits without being asked to. */
export const RestartPolicySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('never') }),
  z.object({
    type: z.literal('on-failure'),
    /** Restarts after crashes in a row; a server that stays up for 10 minutes starts counting again. */
    maxRestarts: z.number().int().min(1).max(100).default(3),
    /** Wait before the first restart; doubled for each further one, at most 5 minutes. */
    backoffSeconds: z.number().int().min(0).max(300).default(5),
  }),
]);
export type RestartPolicy = z.infer<typeof RestartPolicySchema>;

/**
 * A server: a long-running program the agent supervises. Given in a ServerStart (or
 * ServerRestart) payload and kept on the node; a later start without a spec uses the kept one.
 */
export const ServerSpecSchema = z.object({
  /** The program and its arguments (no shell); a relative program is looked up in PATH, then in the working directory. */
  argv: z.array(noNul('an argument').max(4096)).min(1).max(256),
  /** Relative to the server's directory on the node (`<servers root>/<serverId>`); "." by default. */
  workingDirectory: RelativePathSchema.default('.'),
  env: EnvironmentSchema.default({}),
  stop: StopMethodSchema.default({ type: 'signal', signal: 'SIGTERM' }),
  /** After the graceful stop method, how long before SIGTERM; as long again before SIGKILL. */
  stopTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
  /**
   * A regular expression (RE2 syntax: JavaScript's without backreferences and lookaround, matched
   * in linear time) tested against each line the server prints; the
   * first match makes the server ready and completes its ServerStart. Without one, the server is
   * ready as soon as it started.
   */
  readyPattern: z
    .string()
    .min(1)
    .max(500)
    .superRefine((pattern, ctx) => {
      const problem = linearRegExpProblem(pattern);
      if (problem)
        ctx.addIssue({
          code: 'custom',
          message: `not a regular expression the agent accepts (RE2 syntax): ${problem}`,
        });
    })
    .optional(),
  /** How long a ServerStart waits for the ready line before it fails (and stops the server). */
  readyTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
  restartPolicy: RestartPolicySchema.default({ type: 'never' }),
});
export type ServerSpec = z.infer<typeof ServerSpecSchema>;
/** A spec as written by a client (defaults not applied). */
export type ServerSpecInput = z.input<typeof ServerSpecSchema>;

/**
 * A server's state on its node. `starting`: spawned, waiting for its ready line. `running`: ready.
 * `stopping`: asked to stop. `stopped`: exited when asked, or never started. `crashed`: exited on
 * its own (restart policy exhausted or `never`). `restarting`: exited on its own, restarting after
 * a back-off per its restart policy.
 */
export const SERVER_STATES = ['starting', 'running', 'stopping', 'stopped', 'crashed', 'restarting'] as const;
export const ServerStateSchema = z.enum(SERVER_STATES);
export type ServerState = z.infer<typeof ServerStateSchema>;

/** One server as the heartbeat reports it. */
export const ServerReportSchema = z.object({
  serverId: ServerIdSchema,
  state: ServerStateSchema,
  pid: z.number().int().min(1).max(2_147_483_647).nullable(),
  /** When its current (or last) process started. */
  startedAt: z.iso.datetime({ offset: true }).nullable(),
  /** Exit code of its last process; null while it never exited, or when a signal ended it. */
  lastExitCode: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullable(),
  /** Signal that ended its last process, if one did. */
  lastExitSignal: z.string().max(20).nullable().optional(),
  /** Restarts after crashes in a row (reset when it is started by a task). */
  restarts: z.number().int().min(0).max(1_000_000),
  /** When its state last changed, on the agent's clock. */
  changedAt: z.iso.datetime({ offset: true }),
});
export type ServerReport = z.infer<typeof ServerReportSchema>;

/** At most this many servers per node are reported (and supervised). */
export const MAX_SERVERS_PER_NODE = 500;
