import type { TestProject } from 'vitest/node';
import { createMigratedTemplate, dropDatabase, randomDatabaseName } from './database.js';
import { redactUrl, resolveInfrastructure } from './infra.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server-level PostgreSQL URL; clone `templateDatabase` with `useTestDatabase()`. */
    databaseServerUrl: string;
    /** Migrated database for this run; never connect to it (connections are refused), clone it. */
    templateDatabase: string;
    amqpUrl: string;
  }
}

/**
 * Runs once per run of the `integration` and `e2e` projects: finds PostgreSQL and RabbitMQ (env,
 * local, or containers), migrates a template database with a name of its own so that parallel runs
 * on one server do not collide, and tears both down at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (message: string) => console.log(`[global-setup:${project.name}] ${message}`);
  const infrastructure = await resolveInfrastructure({ log });

  const templateDatabase = randomDatabaseName('meridian_template');
  try {
    await createMigratedTemplate(infrastructure.databaseUrl, templateDatabase);
  } catch (error) {
    await dropDatabase(infrastructure.databaseUrl, templateDatabase).catch(() => undefined);
    await infrastructure.stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `could not migrate a template database on ${redactUrl(infrastructure.databaseUrl)}: ${reason}`,
      { cause: error },
    );
  }

  project.provide('databaseServerUrl', infrastructure.databaseUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('amqpUrl', infrastructure.amqpUrl);

  return async () => {
    try {
      await dropDatabase(infrastructure.databaseUrl, templateDatabase);
    } finally {
      await infrastructure.stop();
    }
  };
}
