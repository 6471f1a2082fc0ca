import type { BrokerOperation } from '../domain/credential-sync.js';

/**
 * The broker's management API as the use cases see it (messaging/broker-management.ts speaks
 * HTTP to it). Each operation is idempotent; a failure rejects with a message that names the
 * operation and the broker's answer, never a credential.
 */
export interface BrokerManagement {
  apply(operation: BrokerOperation): Promise<void>;
  /** Where the API is, without credentials: for logs. */
  readonly location: string;
}
