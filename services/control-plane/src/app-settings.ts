import type { AppDeps } from './app/app-deps.js';
import type { Config } from './config.js';

/** The use cases' defaults and retry policy, from the parsed configuration (seed 004 defaults). */
export function appSettingsFrom(
  config: Config,
): Pick<AppDeps, 'defaults' | 'retryPolicy' | 'security' | 'triggerLimits'> {
  return {
    security: {
      requireEnrollment: config.REQUIRE_AGENT_ENROLLMENT,
      commandTtlSeconds: config.COMMAND_TTL_SECONDS,
    },
    triggerLimits: {
      perUserPerHour: config.TRIGGER_LIMIT_PER_USER_PER_HOUR,
      perTaskPerHour: config.TRIGGER_LIMIT_PER_TASK_PER_HOUR,
      perOrgPerHour: config.TRIGGER_LIMIT_PER_ORG_PER_HOUR,
      systemPerMinute: config.TRIGGER_LIMIT_SYSTEM_PER_MINUTE,
    },
    retryPolicy: {
      backoff:
        config.RETRY_POLICY === 'exponential'
          ? {
              kind: 'exponential',
              baseSeconds: config.RETRY_BASE_SECONDS,
              maxSeconds: config.RETRY_MAX_SECONDS,
            }
          : { kind: 'fixed', backoffSeconds: config.RETRY_BACKOFF_SECONDS },
      jitterRatio: config.RETRY_JITTER_RATIO,
      retryOnTimeout: config.RETRY_ON_TIMEOUT,
    },
    defaults: {
      timeoutSeconds: config.DEFAULT_TIMEOUT_SECONDS,
      maxRetries: config.MAX_RETRIES,
      cancelGraceSeconds: config.CANCEL_GRACE_SECONDS,
      maxConcurrentTasksPerNode: config.MAX_CONCURRENT_TASKS_PER_NODE,
      outputMaxBytes: config.EXECUTION_LOG_MAX_BYTES,
      timeoutGraceSeconds: config.TIMEOUT_GRACE_SECONDS,
      nodeLostAfterSeconds: config.NODE_LOST_AFTER_SECONDS,
    },
  };
}
