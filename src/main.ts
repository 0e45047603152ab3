/**
 * `npm start`: the whole product in one process. Without TEMPORAL_ADDRESS it runs a local
 * Temporal dev server (with its Web UI), without DATABASE_URL an embedded PostgreSQL, both kept
 * under .data/; then the worker and the gateway. SIGINT/SIGTERM stop everything it started.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { startGateway } from './api/gateway';
import { findEndpointByToken } from './api/services/endpoints';
import { createTeam, endpointUrls } from './api/services/teams';
import { ConfigError, formatDuration, loadConfig, type Config } from './config';
import { createDatabase, type Database } from './db/client';
import { migrateDatabase } from './db/migrate';
import { startEmbeddedPostgres } from './infra/embedded-postgres';
import { temporalConnectionOptions } from './infra/temporal-connection';
import { ensureSearchAttributes } from './infra/temporal-setup';
import { PROJECT_ROOT, resolveTemporalBinary } from './infra/temporal-binaries';
import { bundleWorkflowsInChildProcess } from './infra/workflow-bundle';
import { findFreePort } from './infra/free-port';
import { DataDirInUseError, lockDataDir } from './infra/data-dir-lock';
import { startDevServer, TEMPORAL_DEFAULT_PORT } from './infra/dev-server';
import { createLogger, type Logger } from './logger';
import { databaseInventory } from './observability/inventory';
import { createMetrics } from './observability/metrics';
import { databaseSlackAppInventory } from './observability/slack-app-metrics';
import { hasKeyEncryptionKey, localKeyFromDataDir } from './secrets';
import { DEMO_PEOPLE } from './slack/demo-people';
import { createDryRunOutbox } from './slack/dry-run-outbox';
import { alertSearchAttributes } from './workflows/definitions';
import { channelPaceOf, createAlertWorker, installTemporalRuntime } from './worker';
import { wakeLostPacers } from './activities/channel-activities';
import { watchAllScheduleHandoffs } from './oncall/handoff-watch';

/**
 * `npm start` runs everything on one machine, where a storm can use every core. The dev server
 * then yields the CPU to the gateway and PostgreSQL: a sender or a person pressing a button is
 * answered first, from PostgreSQL (the intake journal), while the workflows behind it catch up a
 * little later. When the gateway is idle the dev server has the whole machine.
 */
export const DEV_SERVER_NICENESS = 5;

/**
 * The dev server's SQLite file in write-ahead-log mode with `synchronous=normal`: commits append
 * to the log without waiting for a checkpoint, which more than doubled the workflow starts per
 * second here (34/s to 78/s, 16 concurrent clients). The cost: an operating system crash or power
 * loss may lose the last transactions before it (a killed process loses nothing); the file
 * itself stays consistent. A production Temporal on PostgreSQL is not affected.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = [
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=normal',
];

/** Where `npm start` keeps what it runs itself: embedded PostgreSQL, Temporal state, the demo endpoint. */
export const DEFAULT_DATA_DIR = path.join(PROJECT_ROOT, '.data');

export interface RunningEscalator {
  gatewayUrl: string;
  /** The PostgreSQL it uses (the embedded one unless DATABASE_URL said otherwise). */
  databaseUrl: string;
  /** The Temporal frontend it uses (the embedded dev server unless TEMPORAL_ADDRESS said otherwise). */
  temporalAddress: string;
  /** Set when the embedded dev server runs. */
  webUiUrl?: string;
  /** Stops what was started, in reverse order; resolves when nothing is left running. */
  stop(): Promise<void>;
}

/** Starts every part that the configuration does not point elsewhere. */
export async function startEscalator(configured: Config, log: Logger): Promise<RunningEscalator> {
  // ESCALATOR_DATA_DIR: a second local instance, or a test that must never touch the developer's own.
  const dataDir = configured.dataDir ? path.resolve(configured.dataDir) : DEFAULT_DATA_DIR;
  let config = configured;
  const stack: Array<{ what: string; stop: () => Promise<unknown> }> = [];
  const stopAll = async () => {
    for (const { what, stop } of stack.reverse().splice(0)) {
      await stop().catch((error: unknown) => log.error({ err: error }, `could not stop ${what}`));
    }
  };
  try {
    // Readable by its owner only: database credentials, the Temporal state and the demo token live here.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    config = withLocalEncryptionKey(config, dataDir);
    const lock = await lockDataDir(dataDir, (message) => log.warn(message));
    stack.push({ what: 'the data directory lock', stop: () => Promise.resolve(lock.release()) });
    installTemporalRuntime(log);
    const dryRun = config.slack.dryRun ? prepareDryRun(config, dataDir) : undefined;
    if (dryRun) config = dryRun.config;

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      log.info({ dataDir }, 'starting embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'postgres'),
        database: 'escalator',
        persistent: true,
        ownProcessGroup: true,
        onLog: (line) => log.debug({ component: 'postgres' }, line),
      });
      stack.push({ what: 'PostgreSQL', stop: () => pg.stop() });
      databaseUrl = pg.databaseUrl;
    }
    const migrations = await migrateDatabase(databaseUrl);
    if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, 'database migrated');

    let temporalAddress = config.temporal.address;
    let webUiUrl: string | undefined;
    let temporalCli: string | undefined;
    if (!temporalAddress) {
      log.info({ dataDir }, 'starting the Temporal dev server');
      const executable = await resolveTemporalBinary('cli', process.env, (message) => log.info(message));
      if (executable.type === 'existing-path') {
        const devServer = await startDevServer({
          cliPath: executable.path,
          dbFilename: path.join(dataDir, 'temporal.db'),
          logFile: path.join(dataDir, 'temporal-dev-server.log'),
          extraArgs: DEV_SERVER_SQLITE_PRAGMAS,
          niceness: DEV_SERVER_NICENESS,
          namespace: config.temporal.namespace,
          uiPort: config.temporal.uiPort,
          searchAttributes: Object.values(alertSearchAttributes),
          log,
        });
        stack.push({ what: 'the Temporal dev server', stop: () => devServer.stop() });
        temporalAddress = devServer.address;
        webUiUrl = devServer.uiUrl;
        temporalCli = executable.path;
      } else {
        // The SDK downloads the CLI and runs it itself; its output then goes to this terminal.
        const devServer = await TestWorkflowEnvironment.createLocal({
          server: {
            executable,
            ip: '127.0.0.1',
            port: await findFreePort(),
            uiPort: config.temporal.uiPort,
            dbFilename: path.join(dataDir, 'temporal.db'),
            extraArgs: DEV_SERVER_SQLITE_PRAGMAS,
            namespace: config.temporal.namespace,
            searchAttributes: Object.values(alertSearchAttributes),
            log: { format: 'pretty', level: 'error' },
          },
        });
        stack.push({ what: 'the Temporal dev server', stop: () => devServer.teardown() });
        temporalAddress = devServer.address;
        webUiUrl = `http://localhost:${config.temporal.uiPort}`;
      }
    }

    // TLS and API key settings belong to a server of the user's own, never to the embedded dev server.
    const connectionOptions = config.temporal.address
      ? temporalConnectionOptions(config.temporal)
      : { address: temporalAddress };
    const clientConnection = await Connection.connect(connectionOptions);
    stack.push({ what: 'the Temporal client', stop: () => clientConnection.close() });
    await ensureSearchAttributes(clientConnection, config.temporal.namespace, (message) => log.info(message));
    const db = createDatabase(databaseUrl, { poolSize: config.databasePoolSize });
    stack.push({ what: 'the database client', stop: () => db.$disconnect() });
    const metrics = createMetrics(undefined, {
      inventory: databaseInventory(db),
      slackApp: databaseSlackAppInventory(db),
    });

    const workerConnection = await NativeConnection.connect(connectionOptions);
    stack.push({ what: 'the worker connection', stop: () => workerConnection.close() });
    const bundle = await bundleWorkflowsInChildProcess(dataDir);
    const worker = await createAlertWorker({
      connection: workerConnection,
      config,
      db,
      log,
      metrics,
      workflowBundlePath: bundle.path,
      dryRunOutbox: dryRun?.outbox,
    }).finally(() => bundle.remove());
    const workerRun = worker.run();
    stack.push({
      what: 'the worker',
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun.catch(() => undefined); // logged below; what it left is handed to another worker
      },
    });
    workerRun.catch((error: unknown) => log.error({ err: error }, 'the worker failed'));
    wakeLostPacers({
      db,
      temporal: new Client({ connection: workerConnection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      log,
      pace: channelPaceOf(config),
    }).catch((error: unknown) => log.warn({ err: error }, 'could not look for channels without a pacer'));
    watchAllScheduleHandoffs({
      db,
      temporal: new Client({ connection: workerConnection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      log,
    }).catch((error: unknown) => log.warn({ err: error }, 'could not wake the handoff watchers of schedules'));

    // The gateway's calls (the dispatcher's signals, the readiness probes) go through the worker's
    // native connection: gRPC in the SDK's Rust core costs this process less CPU than @grpc/grpc-js.
    const temporal = new Client({ connection: workerConnection, namespace: config.temporal.namespace });
    const gateway = await startGateway(
      { config, db, temporal, log, metrics, dryRunOutbox: dryRun?.outbox, webUiUrl },
      { port: config.port }
    );
    stack.push({ what: 'the gateway', stop: () => gateway.close() });

    // The demo team exists for trying Escalator without Slack: never beside real Slack channels.
    const demo = config.slack.dryRun ? await demoEndpoint(db, config, log, dataDir) : undefined;
    process.stdout.write(
      welcomeBanner({
        config,
        gatewayUrl: gateway.url,
        webUiUrl,
        demo,
        adminTokenFile: dryRun?.adminTokenFile,
        temporalCli: temporalCli ? { path: temporalCli, address: temporalAddress } : undefined,
      })
    );
    return { gatewayUrl: gateway.url, databaseUrl, temporalAddress, webUiUrl, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Without ENCRYPTION_KEY or KMS_KEY_ID, the key kept in the data directory (generated on the first start). */
function withLocalEncryptionKey(config: Config, dataDir: string): Config {
  if (hasKeyEncryptionKey(config)) return config;
  return { ...config, secrets: { ...config.secrets, encryptionKey: localKeyFromDataDir(dataDir) } };
}

/**
 * A dry run is a trial on one's own machine, so what a trial needs is made up when unset: a signing
 * secret (the preview signs its presses with it, and /slack/* still verifies every request) and an
 * admin token, kept 0600 in the data directory so that it survives restarts.
 */
function prepareDryRun(config: Config, dataDir: string) {
  let adminTokenFile: string | undefined;
  let adminToken = config.adminToken;
  if (!adminToken) {
    adminTokenFile = path.join(dataDir, 'admin-token');
    if (!existsSync(adminTokenFile)) {
      writeFileSync(adminTokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    }
    adminToken = readFileSync(adminTokenFile, 'utf8').trim();
  }
  return {
    config: {
      ...config,
      adminToken,
      slack: { ...config.slack, signingSecret: config.slack.signingSecret ?? randomBytes(32).toString('hex') },
    },
    outbox: createDryRunOutbox(),
    adminTokenFile,
  };
}

/**
 * A newcomer's first start creates a `demo` team so that a test alert can be sent at once. Its
 * token is shown only at creation, so it is kept in the data directory (local runs only) to be shown again.
 */
async function demoEndpoint(db: Database, config: Config, log: Logger, dataDir: string): Promise<string | undefined> {
  const demoEndpointFile = path.join(dataDir, 'demo-endpoint.json');
  if (existsSync(demoEndpointFile)) {
    const { token } = JSON.parse(readFileSync(demoEndpointFile, 'utf8')) as { token: string };
    if (await findEndpointByToken(db, token)) return endpointUrls(config.publicUrl, token).webhookUrl;
  }
  if ((await db.team.count()) > 0) return undefined;
  const demo = await createTeam(db, config.publicUrl, {
    name: 'demo',
    slackChannelId: 'C0DEMO',
    engineers: Object.keys(DEMO_PEOPLE),
  });
  writeFileSync(demoEndpointFile, JSON.stringify({ token: demo.token }), { mode: 0o600 });
  log.info({ team: demo.name }, 'created the demo team');
  return demo.webhookUrl;
}

/** The options of the banner `npm start` prints once everything runs. */
export interface WelcomeOptions {
  config: Config;
  gatewayUrl: string;
  webUiUrl?: string;
  demo?: string;
  adminTokenFile?: string;
  /** The CLI that runs the embedded dev server, and where that server listens. */
  temporalCli?: { path: string; address: string };
}

/**
 * The banner: where everything runs, how soon alerts escalate, and what to paste next. The README
 * describes it (test/docs checks that the two agree).
 */
export function welcomeBanner(options: WelcomeOptions): string {
  const { config, gatewayUrl, webUiUrl, demo, adminTokenFile, temporalCli } = options;
  const local = `http://localhost:${new URL(gatewayUrl).port}`;
  const bearer = adminTokenFile
    ? `"Authorization: Bearer $(cat ${adminTokenFile})"`
    : '"Authorization: Bearer $ADMIN_TOKEN"';
  const lines = [
    '',
    'Escalator is running.',
    `  Gateway:         ${gatewayUrl}   (public URL ${config.publicUrl})`,
    webUiUrl ? `  Temporal Web UI: ${webUiUrl}` : `  Temporal:        ${config.temporal.address}`,
    temporalCli ? `  Temporal CLI:    ${temporalCli.path}   (dev server on ${temporalCli.address})` : undefined,
    config.slack.dryRun
      ? `  Slack:           dry run: nothing is sent; see the channels at ${local}/preview (set SLACK_BOT_TOKEN to send)`
      : undefined,
    adminTokenFile && config.adminToken
      ? `  Admin token:     ${config.adminToken}   (kept in ${adminTokenFile}; set ADMIN_TOKEN to choose one)`
      : undefined,
    `  Escalation:      ${formatDuration(config.escalationTimeoutMs)} without an Acknowledge calls the next person (ESCALATION_TIMEOUT)`,
    ...(demo
      ? [
          '',
          'Send a test alert to the demo team:',
          `  curl -X POST ${demo} -H 'Content-Type: application/json' \\`,
          `    -d '{"title":"Disk almost full on db-1","severity":"critical","text":"/var is at 97%"}'`,
        ]
      : []),
    ...(temporalCli
      ? [
          '',
          'The open alerts, with the Temporal CLI:',
          `  ${temporalCliCommand(temporalCli, config.temporal.namespace)} workflow list --query "AlertState='open'"`,
        ]
      : []),
    ...(config.adminToken
      ? [
          '',
          'The admin API: the alerts, then one alert with its timeline (its id is the alertId above):',
          `  curl -H ${bearer} ${local}/api/alerts`,
          `  curl -H ${bearer} ${local}/api/alerts/<alertId>`,
        ]
      : []),
    '',
  ];
  const shown = lines.filter((line): line is string => line !== undefined);
  return `${shown.filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n')}\n`;
}

/** The CLI as a shell command, with the address and namespace only where its defaults differ. */
function temporalCliCommand(cli: { path: string; address: string }, namespace: string): string {
  const quoted = /^[\w./-]+$/.test(cli.path) ? cli.path : `'${cli.path.replace(/'/g, `'\\''`)}'`;
  const address = cli.address === `127.0.0.1:${TEMPORAL_DEFAULT_PORT}` ? '' : ` --address ${cli.address}`;
  const ns = namespace === 'default' ? '' : ` --namespace ${namespace}`;
  return `${quoted}${address}${ns}`;
}

/**
 * One Ctrl-C reaches this process several times: the terminal signals the whole foreground
 * process group, and npm and tsx each pass the signal on again. Repeats this soon are that press.
 */
const RELAYED_SIGNAL_WINDOW_MS = 1_000;

/** Signals that stop Escalator; SIGHUP too, as a closed terminal sends it. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, format: config.logFormat });

  // Listening from the first moment: a signal during the start must still stop what was started,
  // which Node's default (die at once) would leave running.
  let firstSignalAt: number | undefined;
  let requestStop: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => (requestStop = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      log.info({ signal }, 'stopping Escalator');
      requestStop(signal);
    } else if (Date.now() - firstSignalAt > RELAYED_SIGNAL_WINDOW_MS) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  const running = await startEscalator(config, log);
  await stopRequested;
  await running.stop();
  log.info('stopped');
  process.exit(0);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError || error instanceof DataDirInUseError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
    );
    process.exit(1);
  });
}
