/**
 * The Temporal worker: runs alert workflows and their activities. `npm run worker` runs it alone
 * against an existing Temporal server and PostgreSQL; several may run at once on one task queue.
 */
import {
  GracefulShutdownPeriodExpiredError,
  NativeConnection,
  Runtime,
  Worker,
  makeTelemetryFilterString,
} from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from './activities';
import { wakeLostPacers } from './activities/channel-activities';
import { watchAllScheduleHandoffs } from './oncall/handoff-watch';
import type { ChannelPace } from './domain/channel-pace';
import { ConfigError, loadConfig, type Config } from './config';
import { createDatabase, type Database } from './db/client';
import { assertSchemaMigrated, SchemaNotMigratedError } from './db/schema-status';
import { temporalConnectionOptions } from './infra/temporal-connection';
import { ensureSearchAttributes } from './infra/temporal-setup';
import { bundleWorkflowsInChildProcess } from './infra/workflow-bundle';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { startMetricsServer } from './observability/metrics-server';
import { instrumentSlackApi } from './observability/slack-metrics';
import { temporalRuntimeTelemetry } from './observability/temporal-telemetry';
import { assertSecretsConfigured, createSecretBoxFromConfig } from './secrets';
import { createSlackApiFromConfig } from './slack/client';
import { createInstallationBots } from './slack/installations';
import { createSlackForTeam } from './slack/team-slack';
import type { DryRunOutbox } from './slack/dry-run-outbox';

export interface AlertWorkerDeps {
  connection: NativeConnection;
  config: Config;
  db: Database;
  log: Logger;
  metrics?: Metrics;
  /** A workflow bundle made beforehand (bundleWorkflowsInChildProcess); unset: bundled in this process. */
  workflowBundlePath?: string;
  /** Dry run under `npm start`: what would be sent to Slack is also kept here for /preview. */
  dryRunOutbox?: DryRunOutbox;
}

/** Builds the worker for the alert task queue over real clients; the caller runs and shuts it down. */
export async function createAlertWorker({
  connection,
  config,
  db,
  log,
  metrics,
  workflowBundlePath,
  dryRunOutbox,
}: AlertWorkerDeps): Promise<Worker> {
  const slackApi = createSlackApiFromConfig(config, log, dryRunOutbox);
  const slack = metrics && !config.slack.dryRun ? instrumentSlackApi(slackApi, metrics) : slackApi;
  const slackForTeam = createSlackForTeam({
    config,
    db,
    log,
    bots: createInstallationBots({ db, secrets: createSecretBoxFromConfig(config) }),
    defaultSlack: slack,
    wrap: (api) => (metrics ? instrumentSlackApi(api, metrics) : api),
  });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundlePath
      ? { workflowBundle: { codePath: workflowBundlePath } }
      : { workflowsPath: require.resolve('./workflows') }),
    // The worker's own connection serves the client of the channel-turn activity (signal-with-start).
    activities: createActivities({
      slack,
      db,
      log,
      metrics,
      slackForTeam,
      temporal: new Client({ connection, namespace: config.temporal.namespace }),
      channelPace: channelPaceOf(config),
    }),
    ...WORKER_TUNING,
  });
}

/** How channels are paced, where the configuration says (STORM_THRESHOLD). */
export function channelPaceOf(config: Config): Partial<ChannelPace> {
  return { stormThreshold: config.stormThreshold };
}

/**
 * Chosen for alerts, which spend their lives waiting on a timer or a person, and whose activities
 * wait on Slack and PostgreSQL rather than on the CPU:
 * - one V8 context for every workflow (reuseV8Context): a cached workflow does not get a context
 *   of its own;
 * - the cache holds 250 alerts, those busy now: an event for a cached alert is handled without
 *   replaying its history. A cached alert still costs about 350 KiB of the process (1,000 alerts
 *   took `npm start` from 320 to 680 MiB with 2,000 cached), while the others wait minutes on a
 *   timer or a person and replay their short histories in milliseconds when they wake;
 * - 100 activities at once (each mostly waits for an answer), 40 workflow tasks at once (each is
 *   short and CPU-bound; more only queue behind the workflow threads).
 */
const WORKER_TUNING = {
  reuseV8Context: true,
  maxCachedWorkflows: 250,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskExecutions: 40,
  // Stopped (SIGTERM), activities in flight get 5 s to finish, then are cancelled; what is still
  // running after 12 s is left to Temporal, which hands it to another worker: the process stops
  // within seconds whatever the load (docs/storm.md).
  shutdownGraceTime: '5s',
  shutdownForceTime: '12s',
} as const;

const SDK_LOG_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'debug', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Installs the Temporal runtime once per process: SDK logs through pino, SDK metrics exported for
 * Prometheus on `metricsBindAddress`. Must run before the first connection is made.
 *
 * The runtime's own signal handling is off: by default it shuts the workers down on SIGINT,
 * SIGTERM, SIGQUIT and SIGUSR2, then stops listening, so that a repeated signal kills the process
 * mid-drain, and under `npm start` the worker would stop while the process runs on without one.
 * Each entry point stops its parts itself, in order.
 */
export function installTemporalRuntime(log: Logger, metricsBindAddress?: string): void {
  Runtime.install({
    shutdownSignals: [],
    // The SDK's info lines (worker state changes, the workflow bundle's webpack summary) are detail
    // for whoever debugs the SDK: they go out at debug, its warnings and errors as they are.
    logger: sdkLogger(log),
    telemetryOptions: {
      ...(metricsBindAddress ? temporalRuntimeTelemetry(metricsBindAddress) : {}),
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
    },
  });
}

/**
 * The Temporal SDK's logger over ours: its lines get our redaction (activity lines carry a task
 * token, which the process logger drops) and its info lines go out at debug.
 */
export function sdkLogger(log: Logger): NonNullable<Parameters<typeof Runtime.install>[0]['logger']> {
  return {
    log: (level, message, meta) => log[SDK_LOG_LEVELS[level]]({ ...meta }, message),
    trace: (message, meta) => log.trace({ ...meta }, message),
    debug: (message, meta) => log.debug({ ...meta }, message),
    info: (message, meta) => log.debug({ ...meta }, message),
    warn: (message, meta) => log.warn({ ...meta }, message),
    error: (message, meta) => log.error({ ...meta }, message),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, format: config.logFormat }).child({ process: 'worker' });
  if (!config.temporal.address || !config.databaseUrl) {
    throw new ConfigError(
      'npm run worker needs TEMPORAL_ADDRESS and DATABASE_URL: the worker alone uses an existing Temporal server and ' +
        'PostgreSQL (npm start runs embedded ones)'
    );
  }
  assertSecretsConfigured(config);
  const db = createDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  await assertSchemaMigrated(db);
  installTemporalRuntime(log, `0.0.0.0:${config.temporalMetricsPort}`);
  const setupConnection = await Connection.connect(temporalConnectionOptions(config.temporal));
  await ensureSearchAttributes(setupConnection, config.temporal.namespace, (message) => log.info(message));
  await setupConnection.close();

  const metrics = createMetrics();
  const metricsServer = await startMetricsServer({ registry: metrics.registry, port: config.metricsPort });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  // In a private directory of its own (mkdtemp), never at a name another local user could predict.
  const bundle = await bundleWorkflowsInChildProcess();
  // Worker.create reads the bundle once; a file left by every start (2 MB) would pile up in /tmp.
  const worker = await createAlertWorker({
    connection,
    config,
    db,
    log,
    metrics,
    workflowBundlePath: bundle.path,
  }).finally(() => bundle.remove());

  // Worker.run() returns once shutdown() has drained the tasks in flight. `on`, not `once`: one
  // Ctrl-C arrives twice (from the terminal and relayed by npm), and Node's default for the second
  // would kill the tasks being drained.
  const stop = (signal: NodeJS.Signals) => {
    if (worker.getState() !== 'RUNNING') return;
    log.info({ signal }, 'worker draining');
    worker.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log.info({ taskQueue: config.temporal.taskQueue, metrics: metricsServer.url }, 'worker running');
  const client = new Client({ connection, namespace: config.temporal.namespace });
  wakeLostPacers({
    db,
    temporal: client,
    taskQueue: config.temporal.taskQueue,
    log,
    pace: channelPaceOf(config),
  }).catch((error: unknown) => log.warn({ err: error }, 'could not look for channels without a pacer'));
  watchAllScheduleHandoffs({ db, temporal: client, taskQueue: config.temporal.taskQueue, log }).catch(
    (error: unknown) => log.warn({ err: error }, 'could not wake the handoff watchers of schedules')
  );
  await worker.run().catch((error: unknown) => {
    if (!(error instanceof GracefulShutdownPeriodExpiredError)) throw error;
    log.warn('worker stopped before its last tasks finished: Temporal hands them to another worker');
  });
  await Promise.all([connection.close(), db.$disconnect(), metricsServer.close()]);
  log.info('worker stopped');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError || error instanceof SchemaNotMigratedError ? error.message : ((error as Error).stack ?? String(error))}\n`
    );
    process.exit(1);
  });
}
