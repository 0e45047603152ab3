/**
 * `npm run api`: the gateway alone, against an existing Temporal server and PostgreSQL.
 * Stops on SIGTERM/SIGINT: no new connections, requests in flight finish, then the clients close.
 */
import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../db/client';
import { assertSchemaMigrated, SchemaNotMigratedError } from '../db/schema-status';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { createLogger } from '../logger';
import { databaseInventory } from '../observability/inventory';
import { createMetrics } from '../observability/metrics';
import { databaseSlackAppInventory } from '../observability/slack-app-metrics';
import { assertSecretsConfigured } from '../secrets';
import { startGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  const missing = [
    config.temporal.address ? undefined : 'TEMPORAL_ADDRESS',
    config.databaseUrl ? undefined : 'DATABASE_URL',
  ].filter((name): name is string => name !== undefined);
  if (missing.length > 0 || !config.temporal.address || !config.databaseUrl) {
    throw new ConfigError(
      `npm run api needs ${missing.join(' and ')}: the gateway alone uses an existing Temporal server and ` +
        'PostgreSQL (npm start runs embedded ones)'
    );
  }

  assertSecretsConfigured(config);
  const db = createDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  await assertSchemaMigrated(db);
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  // The gateway alone reports the teams/endpoints/live-alert gauges: workers leave them out, so they count once.
  const metrics = createMetrics(undefined, {
    inventory: databaseInventory(db),
    slackApp: databaseSlackAppInventory(db),
  });
  const gateway = await startGateway({ config, db, temporal, log, metrics }, { port: config.port });
  log.info({ url: gateway.url, publicUrl: config.publicUrl, temporal: config.temporal.address }, 'gateway listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'gateway stopping');
    gateway
      .close()
      .then(() => Promise.all([connection.close(), db.$disconnect()]))
      .then(() => {
        log.info('gateway stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'gateway did not stop cleanly');
        process.exit(1);
      });
  };
  // `on`, not `once`: one Ctrl-C arrives twice (from the terminal and relayed by npm), and a second
  // delivery left to Node's default would kill the requests still in flight.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError || error instanceof SchemaNotMigratedError ? error.message : ((error as Error).stack ?? String(error))}\n`
  );
  process.exit(1);
});
