import { runMigrations } from '../persistence/migrate.js';

const url = process.env['DATABASE_URL'];
if (!url) {
  console.error('DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/meridian)');
  process.exit(2);
}
const applied = await runMigrations(url);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
