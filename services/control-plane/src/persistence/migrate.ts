import { createDataSource } from './data-source.js';

/** Applies every pending migration to the database at `databaseUrl`, each in its own transaction. */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const dataSource = createDataSource({ url: databaseUrl, poolSize: 1, applicationName: 'meridian-migrate' });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
