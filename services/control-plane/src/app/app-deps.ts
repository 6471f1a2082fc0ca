import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Topology } from '@meridian/contracts/topology';
import type { TriggerLimits } from '../domain/rate-limit-policy.js';
import type { RetryPolicy } from '../domain/retry-policy.js';
import type { CommandKeyring } from '../security/command-keyring.js';
import type { BrokerManagement } from './broker-management.js';
import type { Clock } from './clock.js';

export interface TaskDefaults {
  timeoutSeconds: number;
  maxRetries: number;
  cancelGraceSeconds: number;
  /** Upper bound on a node's capacity, whatever its agent announces. */
  maxConcurrentTasksPerNode: number;
  outputMaxBytes: number;
  timeoutGraceSeconds: number;
  /** Silence after which a node is lost and its executions are given up. */
  nodeLostAfterSeconds: number;
}

/** What every use case needs; built once in `main.ts`. */
export interface AppDeps {
  dataSource: DataSource;
  clock: Clock;
  random: () => number;
  topology: Topology;
  defaults: TaskDefaults;
  retryPolicy: RetryPolicy;
  logger: Logger;
  /** Signs commands; its public keys are handed to enrolled agents. */
  keyring: CommandKeyring;
  security: SecuritySettings;
  /** Seed 000's limits on triggers and reschedules (TRIGGER_LIMIT_*). */
  triggerLimits: TriggerLimits;
  /**
   * Provisions enrolled nodes' broker users (BROKER_MANAGEMENT_URL); undefined when not configured:
   * enrollment and rotation then answer 503.
   */
  brokerManagement?: BrokerManagement;
}

export interface SecuritySettings {
  /** Messages of unenrolled agents (the shared broker login) are refused. */
  requireEnrollment: boolean;
  /** How long a signed command stays valid after it is published. */
  commandTtlSeconds: number;
}

export type { TriggerLimits };
