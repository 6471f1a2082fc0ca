import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ExecutionEntity } from './entities/execution.entity.js';
import { NodeServerEntity } from './entities/node-server.entity.js';
import { NodeEntity } from './entities/node.entity.js';
import { OutboxMessageEntity } from './entities/outbox-message.entity.js';
import { ProcessedMessageEntity } from './entities/processed-message.entity.js';
import { RecurringTaskEntity } from './entities/recurring-task.entity.js';
import { TaskEventEntity } from './entities/task-event.entity.js';
import { TaskRunEntity } from './entities/task-run.entity.js';
import { TaskEntity } from './entities/task.entity.js';
import { CreateCoreTables1795400000001 } from './migrations/0001-create-core-tables.js';
import { CreateExecutionLogs1795400000002 } from './migrations/0002-create-execution-logs.js';
import { AddExecutionLogTruncatedThrough1795400000003 } from './migrations/0003-add-execution-log-truncated-through.js';
import { AddOutboxNextAttemptAt1795400000004 } from './migrations/0004-add-outbox-next-attempt-at.js';
import { AddLostNodesAndRetryPolicies1795400000005 } from './migrations/0005-add-lost-nodes-and-retry-policies.js';
import { CreateIdempotencyKeysAndDeadLetters1795400000006 } from './migrations/0006-create-idempotency-keys-and-dead-letters.js';
import { CreateNodeEnrollmentsAndCredentials1795400000007 } from './migrations/0007-create-node-enrollments-and-credentials.js';
import { AddNodeEnrollmentsRevokedBy1795400000008 } from './migrations/0008-add-node-enrollments-revoked-by.js';
import { CreateTaskRunsAndRateLimits1795400000009 } from './migrations/0009-create-task-runs-and-rate-limits.js';
import { AllowPausedTasks1795400000010 } from './migrations/0010-allow-paused-tasks.js';
import { CoverTaskEventIndexes1795400000011 } from './migrations/0011-cover-task-event-indexes.js';
import { CreateNodeServers1795400000012 } from './migrations/0012-create-node-servers.js';
import { CreateBatches1795400000013 } from './migrations/0013-create-batches.js';
import { CreateRecurringTasks1795400000014 } from './migrations/0014-create-recurring-tasks.js';
import { CreateTaskTemplates1795400000015 } from './migrations/0015-create-task-templates.js';

export const ENTITIES = [
  TaskEntity,
  ExecutionEntity,
  TaskEventEntity,
  TaskRunEntity,
  OutboxMessageEntity,
  ProcessedMessageEntity,
  NodeEntity,
  NodeServerEntity,
  RecurringTaskEntity,
];

/** In order; never edit one that has been released, add the next. */
export const MIGRATIONS = [
  CreateCoreTables1795400000001,
  CreateExecutionLogs1795400000002,
  AddExecutionLogTruncatedThrough1795400000003,
  AddOutboxNextAttemptAt1795400000004,
  AddLostNodesAndRetryPolicies1795400000005,
  CreateIdempotencyKeysAndDeadLetters1795400000006,
  CreateNodeEnrollmentsAndCredentials1795400000007,
  AddNodeEnrollmentsRevokedBy1795400000008,
  CreateTaskRunsAndRateLimits1795400000009,
  AllowPausedTasks1795400000010,
  CoverTaskEventIndexes1795400000011,
  CreateNodeServers1795400000012,
  CreateBatches1795400000013,
  CreateRecurringTasks1795400000014,
  CreateTaskTemplates1795400000015,
];

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'meridian-control-plane',
  });
}
