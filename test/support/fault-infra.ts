import { afterAll, beforeAll } from 'vitest';
import { runningProcesses, stopAllProcesses } from './processes.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { startPrivateRabbitMq, type PrivateRabbitMq } from './private-rabbitmq.js';

/** A private broker and database for one test file; read them inside tests and hooks. */
export interface PrivateInfra {
  readonly broker: PrivateRabbitMq;
  readonly postgres: PrivatePostgres;
}

/**
 * Starts a private RabbitMQ and a private PostgreSQL for the test file (in parallel, in
 * `beforeAll`) and stops them in `afterAll`, after every control-plane and agent process still
 * running, whatever the tests did. Call at the top level of the file.
 */
export function usePrivateInfra(): PrivateInfra {
  let broker: PrivateRabbitMq | undefined;
  let postgres: PrivatePostgres | undefined;
  beforeAll(async () => {
    const [mq, db] = await Promise.allSettled([startPrivateRabbitMq(), startPrivatePostgres()]);
    if (mq.status === 'fulfilled') broker = mq.value;
    if (db.status === 'fulfilled') postgres = db.value;
    if (mq.status === 'rejected') throw mq.reason;
    if (db.status === 'rejected') throw db.reason;
  });
  afterAll(async () => {
    const leaked = runningProcesses().map((child) => `${child.name} (pid ${child.pid})`);
    await stopAllProcesses('SIGKILL');
    await Promise.allSettled([broker?.destroy(), postgres?.destroy()]);
    broker = undefined;
    postgres = undefined;
    if (leaked.length > 0) throw new Error(`processes left running by this file: ${leaked.join(', ')}`);
  });
  return {
    get broker() {
      if (!broker) throw new Error('the private broker exists only between beforeAll and afterAll');
      return broker;
    },
    get postgres() {
      if (!postgres) throw new Error('the private database exists only between beforeAll and afterAll');
      return postgres;
    },
  };
}
