/**
 * Starts the real servers that the whole test run shares: one throwaway PostgreSQL database with
 * the project's migrations applied, and one Temporal dev server. Suites reach them through
 * DATABASE_URL and TEMPORAL_ADDRESS; the time-skipping server binary is resolved once here too.
 * Set DATABASE_URL or TEMPORAL_ADDRESS beforehand to use servers of your own instead.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres';
import { resolveTemporalBinary } from '../src/infra/temporal-binaries';
import { migrateDatabase } from '../src/db/migrate';
import { alertSearchAttributes } from '../src/workflows/definitions';

export interface TestServers {
  stopPostgres?: () => Promise<void>;
  temporal?: TestWorkflowEnvironment;
}

declare global {
  var __escalatorTestServers: TestServers | undefined;
}

export default async function globalSetup(): Promise<void> {
  const log = (message: string) => process.stderr.write(`[test setup] ${message}\n`);
  const servers: TestServers = {};
  globalThis.__escalatorTestServers = servers;

  const [cli, testServer] = [
    await resolveTemporalBinary('cli', process.env, log),
    await resolveTemporalBinary('testServer', process.env, log),
  ];
  if (testServer.type === 'existing-path') process.env.TEMPORAL_TEST_SERVER_PATH = testServer.path;
  if (cli.type === 'existing-path') process.env.TEMPORAL_CLI_PATH = cli.path;

  if (!process.env.DATABASE_URL) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-test-pg-'));
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'cluster'),
      database: 'escalator_test',
      persistent: false,
      // Suites make throwaway databases of their own (test/db/fresh-database.ts).
      appRoleMayCreateDatabases: true,
    });
    servers.stopPostgres = () => pg.stop();
    process.env.DATABASE_URL = pg.databaseUrl;
  }
  await migrateDatabase(process.env.DATABASE_URL);

  if (!process.env.TEMPORAL_ADDRESS) {
    servers.temporal = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli,
        ip: '127.0.0.1',
        searchAttributes: Object.values(alertSearchAttributes),
        log: { format: 'pretty', level: 'error' },
      },
    });
    process.env.TEMPORAL_ADDRESS = servers.temporal.address;
  }
}
