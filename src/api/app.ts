/** The gateway's Express app: built from its dependencies, with no side effects until listened. */
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { httpMetricsMiddleware, metricsHandler } from '../observability/http-metrics';
import type { Metrics } from '../observability/metrics';
import type { SecretBox } from '../secrets';
import type { DryRunOutbox } from '../slack/dry-run-outbox';
import { createSlackDirectory, type SlackDirectory } from '../slack/directory';
import type { SubscriptionConfirmer } from '../sns/subscription';
import { createSnsVerifier, type SnsVerifier } from '../sns/verify';
import { errorMiddleware, routeNotFound } from './errors';
import { requireBearerToken } from './middleware/admin-auth';
import { createCredentialGuard } from './middleware/credential-guard';
import { mountedAt, requestLogging } from './middleware/request-logging';
import { frontDoorHandler } from './handlers/front-door';
import { icalHandler } from './handlers/schedules';
import { adminRoutes } from './routes/admin';
import { heartbeatRoutes } from './routes/heartbeats';
import { healthRoutes } from './routes/health';
import { previewRoutes } from './routes/preview';
import { slackRoutes } from './routes/slack';
import { snsRoutes } from './routes/sns';
import { webhookRoutes } from './routes/webhooks';
import { createIntakeGate } from '../intake/gate';
import { shedLoad } from './middleware/load-shedding';
import { createAlertIntake, type AlertIntake } from './services/alert-intake';
import { createSlackResponder, type SlackResponder } from './services/slack-actions';
import { createSlackAppRoutes } from './slack-app';

export interface GatewayDeps {
  config: Config;
  db: Database;
  /** A connected (or lazy) Temporal client in config.temporal.namespace. */
  temporal: Client;
  log: Logger;
  /** Replies to button presses through Slack's response_url; a real HTTP POST by default. */
  slackResponder?: SlackResponder;
  /** Milliseconds since the epoch; tests move it to check Slack signature ages. */
  clock?: () => number;
  /** Prometheus instruments: request durations by route, alerts received, opened and repeated. */
  metrics?: Metrics;
  /** Verifies SNS messages; by default fetches AWS's signing certificates over HTTPS (tests bring their own). */
  snsVerifier?: SnsVerifier;
  /** Confirms SNS subscriptions (a GET of the verified SubscribeURL); a real HTTPS GET by default. */
  snsSubscriptionConfirmer?: SubscriptionConfirmer;
  /** Seals and opens stored Slack tokens; defaults to the configuration's key-encryption key. */
  secrets?: SecretBox;
  /** Slack events and commands still being worked on after their answer (tests wait on it). */
  slackBackground?: Set<Promise<void>>;
  /** Dry run under `npm start`: what would be sent to Slack, shown by GET /preview. */
  dryRunOutbox?: DryRunOutbox;
  /** Looks up engineers given by e-mail; by default Slack's users.lookupByEmail when SLACK_BOT_TOKEN is set. */
  slackDirectory?: SlackDirectory;
  /** The Temporal Web UI that `npm start` runs, linked from the page at `/`. */
  webUiUrl?: string;
}

/** The alert intake over its gate: one per gateway, shared by the app and the heartbeat sweeper. */
export function createGatewayIntake(deps: GatewayDeps): AlertIntake {
  const { config, db, temporal, log } = deps;
  const gate = createIntakeGate({ db, temporal, maxBacklog: config.intake.maxBacklog });
  return createAlertIntake({ config, db, log, clock: deps.clock ?? Date.now, gate, metrics: deps.metrics });
}

/** What a running gateway shares with its app (gateway.ts); the app makes its own when built alone. */
export interface AppParts {
  intake?: AlertIntake;
  /** A ping ended a monitor's silence: the heartbeat sweeper reports the resolution now. */
  onHeartbeatResolvePending?: () => void;
}

/** Builds the gateway: routes, body limits, request logging and the one error middleware. */
export function createApp(deps: GatewayDeps, parts: AppParts = {}): Express {
  const { config, db, temporal, log } = deps;
  const clock = deps.clock ?? Date.now;
  const intake = parts.intake ?? createGatewayIntake(deps);
  const intakeLoad = shedLoad(config.intake.maxInFlight, () => deps.metrics?.intakeShed.inc({ reason: 'busy' }));

  // One per app: failed tokens and bearers from a client count together, wherever they are tried.
  const guard = createCredentialGuard(log);

  const app = express();
  app.disable('x-powered-by');
  // Behind a reverse proxy, the client address (which failed credentials are counted by) is in X-Forwarded-For.
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  // First, so that it times whole requests, including those refused by later middleware.
  if (deps.metrics) app.use(httpMetricsMiddleware(deps.metrics));
  // Before request logging: Prometheus scrapes every few seconds and would drown the log. Team names
  // and counts are nobody else's business: on the public port only behind METRICS_TOKEN (or on a
  // port of their own, GATEWAY_METRICS_PORT, see gateway.ts).
  if (deps.metrics && config.metricsToken) {
    app.get(
      '/metrics',
      requireBearerToken(config.metricsToken, guard, { variable: 'METRICS_TOKEN', what: 'metrics', closed: '' }),
      metricsHandler(deps.metrics.registry)
    );
  }
  // Before request logging too: the preview page polls every second.
  app.use(
    '/preview',
    previewRoutes({ db, outbox: deps.dryRunOutbox, signingSecret: config.slack.signingSecret, clock, log })
  );
  // Before request logging too: a ping is machine traffic, every minute per monitor and hundreds a
  // second in all, and a log line each would cost more than the ping (its metrics still count it).
  app.use(
    '/heartbeats',
    mountedAt('/heartbeats'),
    heartbeatRoutes({ db, guard, clock, onResolvePending: parts.onHeartbeatResolvePending })
  );
  app.use(requestLogging(log));
  app.use(healthRoutes({ db, temporal }));
  // Whoever opens the gateway's address in a browser is shown what runs and where to go.
  app.get('/', frontDoorHandler({ config, webUiUrl: deps.webUiUrl }));
  const directory =
    deps.slackDirectory ??
    (config.slack.botToken
      ? createSlackDirectory({ token: config.slack.botToken, apiUrl: config.slack.apiUrl })
      : undefined);
  app.use('/api', mountedAt('/api'), adminRoutes({ config, db, temporal, log, directory, guard, intake, clock }));

  // Calendar clients cannot send a bearer token: the feed's URL carries its own.
  app.get('/ical/:file', icalHandler({ db, guard }));
  app.use('/webhooks', mountedAt('/webhooks'), intakeLoad, webhookRoutes({ db, intake, guard }));
  app.use(
    '/sns',
    mountedAt('/sns'),
    intakeLoad,
    snsRoutes({
      db,
      guard,
      intake,
      log,
      verifier: deps.snsVerifier ?? createSnsVerifier({ now: clock }),
      subscriptionConfirmer: deps.snsSubscriptionConfirmer,
    })
  );
  const responder =
    deps.slackResponder ??
    createSlackResponder({ slackApiUrl: config.slack.apiUrl, previewReplies: deps.dryRunOutbox !== undefined });
  app.use(
    '/slack',
    mountedAt('/slack'),
    slackRoutes({
      signingSecret: config.slack.signingSecret,
      clock,
      db,
      responder,
      app: createSlackAppRoutes({
        config,
        db,
        log,
        responder,
        secrets: deps.secrets,
        metrics: deps.metrics,
        background: deps.slackBackground,
        clock,
        temporal,
      }),
    })
  );
  app.use(routeNotFound);
  app.use(errorMiddleware(log));
  return app;
}
