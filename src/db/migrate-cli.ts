/**
 * `npm run migrate` (`node dist/db/migrate-cli.js` in the image): applies prisma/migrations to
 * DATABASE_URL and exits. Run once per deploy before the gateway and workers start (docker
 * compose's escalator-migrate does); they refuse to start on a database that lacks a migration.
 */
import { loadConfig } from '../config';
import { migrateDatabase } from './migrate';

async function main(): Promise<void> {
  const { databaseUrl } = loadConfig();
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: point it at the PostgreSQL database to migrate');
  const { applied, alreadyApplied } = await migrateDatabase(databaseUrl);
  for (const name of applied) process.stdout.write(`applied migration ${name}\n`);
  process.stdout.write(
    applied.length === 0
      ? `database is up to date (${alreadyApplied.length} migrations applied earlier)\n`
      : `applied ${applied.length} migration(s); ${alreadyApplied.length} were applied earlier\n`
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
