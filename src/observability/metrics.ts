/**
 * Escalator's Prometheus metrics: one registry per process, never prom-client's global one, so that
 * the gateway and the worker (and tests running several apps in one process) never collide.
 *
 * The gateway records intake (alerts received, opened, repeated) and HTTP latency; the worker
 * records the lifecycle (escalations, acknowledgements, passes, ends, Slack calls) from its
 * activities, since workflow code runs in a deterministic sandbox and cannot touch prom-client.
 * Label values use the product's words: states `open|acknowledged|closed|resolved`, steps
 * `engineer|team`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerSlackAppGauges, type SlackAppInventory } from './slack-app-metrics';
import type { AlertHolder, AlertState, Severity } from '../domain/alert';

/** Who is called at an escalation step: the next engineer, or the whole team (`<!channel>`). */
export type EscalationStep = AlertHolder['kind'];

/** How an alert ended: `closed` by a person pressing Close, `resolved` by its source. */
export type EndedState = Extract<AlertState, 'closed' | 'resolved'>;

/** Alerts that have not ended yet, the ones an on-call engineer still has to look at. */
export type LiveState = Extract<AlertState, 'open' | 'acknowledged'>;

/** How a Slack Web API call went, as the `outcome` label says it. */
export type SlackCallOutcome = 'ok' | 'error' | 'rate_limited' | 'timeout';

/**
 * Sources that get their own `source` label value. A generic webhook may name any source it likes,
 * and every distinct label value is a new time series kept forever, so anything else is `other`.
 */
export const KNOWN_ALERT_SOURCES = [
  'generic',
  'cloudwatch',
  'eventbridge',
  'sns',
  'alertmanager',
  'grafana',
  'newrelic',
  'uptimerobot',
] as const;

/** Route label of requests that matched no route (404s, or answered by middleware before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts read from PostgreSQL when Prometheus scrapes, so the gauges are true whichever process
 * changed the data. Give it to one process only (the gateway): two would report everything twice.
 */
export interface Inventory {
  countTeams(): Promise<number>;
  countEndpoints(): Promise<number>;
  /** Alerts not yet ended, by team name and state. */
  countLiveAlerts(): Promise<Array<{ team: string; state: LiveState; count: number }>>;
}

export interface MetricsOptions {
  /** Registers the scrape-time gauges (teams, endpoints, live alerts) over these counts. */
  inventory?: Inventory;
  /** A scrape gives up on the inventory after this long and keeps the last values. */
  inventoryTimeoutMs?: number;
  /** Node.js process metrics (CPU, memory, event loop lag, GC); on by default. */
  defaultMetrics?: boolean;
  /** Registers the Slack app's per-workspace gauges (installations, teams, alerts, escalations). */
  slackApp?: SlackAppInventory;
}

/** Seconds from 15 s to 4 h: on-call work happens in minutes, escalation timeouts default to 5 m. */
const TIME_TO_ACKNOWLEDGE_BUCKETS = [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400];
/** Acknowledged alerts may stay open for days while someone works on the fix. */
const TIME_TO_CLOSE_BUCKETS = [...TIME_TO_ACKNOWLEDGE_BUCKETS, 28_800, 86_400, 259_200];
/** Slack answers interactions within 3 s, SNS gives up after 15 s: the interesting range is below that. */
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

/**
 * Creates Escalator's instruments on `registry` (a fresh one by default) with Node's default
 * process metrics. Every metric is registered even before its first sample, so dashboards and
 * `absent()` alerts see the names from the first scrape.
 */
export function createMetrics(registry: Registry = new Registry(), options: MetricsOptions = {}) {
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    alertsReceived: new Counter({
      name: 'escalator_alerts_received_total',
      help: 'Alert reports accepted on an endpoint (firing or resolved, new or repeated), by source.',
      labelNames: ['source'] as const,
      registers,
    }),
    alertsOpened: new Counter({
      name: 'escalator_alerts_opened_total',
      help: 'Alerts opened: reports that started a new alert rather than repeating an open one.',
      labelNames: ['team', 'severity'] as const,
      registers,
    }),
    alertRepeats: new Counter({
      name: 'escalator_alert_repeats_total',
      help: 'Repeats of an alert that was still open or acknowledged, counted on it instead of posted again.',
      labelNames: ['team'] as const,
      registers,
    }),
    escalations: new Counter({
      name: 'escalator_escalations_total',
      help: 'Escalation steps taken because nobody acknowledged in time: to the next engineer, or to the whole team.',
      labelNames: ['team', 'step'] as const,
      registers,
    }),
    acknowledgements: new Counter({
      name: 'escalator_acknowledgements_total',
      help: 'Alerts acknowledged by a person.',
      labelNames: ['team'] as const,
      registers,
    }),
    passes: new Counter({
      name: 'escalator_passes_total',
      help: 'Alerts passed on to the next engineer with the Pass button.',
      labelNames: ['team'] as const,
      registers,
    }),
    alertsEnded: new Counter({
      name: 'escalator_alerts_ended_total',
      help: 'Alerts ended: closed by a person, or resolved by their source.',
      labelNames: ['team', 'state', 'by'] as const,
      registers,
    }),
    timeToAcknowledge: new Histogram({
      name: 'escalator_time_to_acknowledge_seconds',
      help: 'Time from an alert first being seen to its acknowledgement.',
      labelNames: ['team'] as const,
      buckets: TIME_TO_ACKNOWLEDGE_BUCKETS,
      registers,
    }),
    timeToClose: new Histogram({
      name: 'escalator_time_to_close_seconds',
      help: 'Time from an alert first being seen to its end (closed or resolved).',
      labelNames: ['team', 'state'] as const,
      buckets: TIME_TO_CLOSE_BUCKETS,
      registers,
    }),
    slackCalls: new Counter({
      name: 'escalator_slack_calls_total',
      help: 'Slack Web API calls, by method and outcome.',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    slackRetries: new Counter({
      name: 'escalator_slack_retries_total',
      help: 'Slack Web API calls made by a retried activity attempt (Temporal retries; the client itself never does).',
      labelNames: ['method'] as const,
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'escalator_http_request_duration_seconds',
      help: 'Gateway request latency, by method, route pattern (never the raw URL: it carries tokens) and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    }),
    intakeDispatched: new Counter({
      name: 'escalator_intake_dispatched_total',
      help: 'Intake journal entries handed to their workflows, by kind (occurrence, resolution, action) and outcome.',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    intakeDispatchDelay: new Histogram({
      name: 'escalator_intake_dispatch_delay_seconds',
      help: 'From the 2xx answer to the signal in Temporal, per intake journal entry.',
      labelNames: ['kind'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    }),
    intakeShed: new Counter({
      name: 'escalator_intake_shed_total',
      help: 'Reports answered 503 without being written, by reason (temporal, backlog, busy, database).',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
  if (options.inventory) {
    registerInventoryGauges(registry, options.inventory, options.inventoryTimeoutMs ?? 2_000);
  }
  if (options.slackApp) registerSlackAppGauges(registry, options.slackApp);
  return { ...metrics, channelQueue: channelQueueGauge(registry) };
}

/** The instruments of one process, as `createMetrics` returns them. */
export type Metrics = ReturnType<typeof createMetrics>;

/** A channel pacer's report counts this long; after it, another worker's newer report is the truth. */
export const CHANNEL_QUEUE_REPORT_TTL_MS = 30_000;

/**
 * `escalator_slack_channel_queue_length{channel}`: turns waiting in a channel's pacer (storm mode).
 * The pacer reports through whichever worker runs its activity, so each process shows only its
 * recent reports (within CHANNEL_QUEUE_REPORT_TTL_MS); across workers, `max by (channel)` is the
 * queue. The pacer reports at least every few seconds while it changes, and 0 when it empties.
 */
function channelQueueGauge(registry: Registry) {
  const reports = new Map<string, { waiting: number; at: number }>();
  new Gauge({
    name: 'escalator_slack_channel_queue_length',
    help: 'Slack messages waiting for their turn in a channel (alert posts and thread calls), as its pacer last reported.',
    labelNames: ['channel'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [channel, report] of reports) {
        if (now - report.at > CHANNEL_QUEUE_REPORT_TTL_MS) reports.delete(channel);
        else this.set({ channel }, report.waiting);
      }
    },
  });
  return {
    set(channel: string, waiting: number): void {
      reports.set(channel, { waiting, at: Date.now() });
    },
  };
}

interface InventorySnapshot {
  teams?: number;
  endpoints?: number;
  liveAlerts?: Awaited<ReturnType<Inventory['countLiveAlerts']>>;
}

function registerInventoryGauges(registry: Registry, inventory: Inventory, timeoutMs: number): void {
  const registers = [registry];
  // The registry collects all metrics of a scrape concurrently: they share one read of the
  // inventory, so the error counter already counts this scrape's failures when it is written.
  let inFlight: Promise<InventorySnapshot> | undefined;
  const snapshot = () =>
    (inFlight ??= readInventory().finally(() => {
      inFlight = undefined;
    }));

  const inventoryErrors = new Counter({
    name: 'escalator_inventory_errors_total',
    help: 'Scrapes that could not read teams, endpoints or live alerts from PostgreSQL (the gauges kept their last values).',
    labelNames: ['gauge'] as const,
    registers,
    async collect() {
      await snapshot();
    },
  });
  // A scrape must not fail or hang because PostgreSQL does: the other metrics still matter then.
  const read = async <T>(gauge: string, count: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(count(), timeoutMs, `reading ${gauge}`);
    } catch {
      inventoryErrors.inc({ gauge });
      return undefined;
    }
  };
  const readInventory = async (): Promise<InventorySnapshot> => {
    const [teams, endpoints, liveAlerts] = await Promise.all([
      read('teams', () => inventory.countTeams()),
      read('endpoints', () => inventory.countEndpoints()),
      read('live_alerts', () => inventory.countLiveAlerts()),
    ]);
    return { teams, endpoints, liveAlerts };
  };

  new Gauge({
    name: 'escalator_teams_configured',
    help: 'Teams configured, read from PostgreSQL at scrape time.',
    registers,
    async collect() {
      const { teams } = await snapshot();
      if (teams !== undefined) this.set(teams);
    },
  });
  new Gauge({
    name: 'escalator_endpoints_configured',
    help: 'Alert endpoints configured, read from PostgreSQL at scrape time.',
    registers,
    async collect() {
      const { endpoints } = await snapshot();
      if (endpoints !== undefined) this.set(endpoints);
    },
  });
  new Gauge({
    name: 'escalator_live_alerts',
    help: 'Alerts not yet ended, by team and state (open: nobody owns it yet), read from PostgreSQL at scrape time.',
    labelNames: ['team', 'state'] as const,
    registers,
    async collect() {
      const { liveAlerts } = await snapshot();
      if (liveAlerts === undefined) return;
      // Reset first: a team whose last alert ended must drop to nothing, not keep its old count.
      this.reset();
      for (const { team, state, count } of liveAlerts) this.set({ team, state }, count);
    },
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `source` label value of an alert source: itself when known, otherwise `other`. */
export function sourceLabel(source: string): string {
  const normalised = source.trim().toLowerCase();
  return (KNOWN_ALERT_SOURCES as readonly string[]).includes(normalised) ? normalised : 'other';
}

/**
 * Gateway, once an alert report is durably in Temporal (the 202): counts it by source, and as a
 * new alert or a repeat of an open one (`duplicate` in the gateway's answer).
 */
export function recordAlertReceived(
  metrics: Metrics,
  report: { source: string; team: string; severity: Severity; status: 'firing' | 'resolved'; duplicate: boolean }
): void {
  metrics.alertsReceived.inc({ source: sourceLabel(report.source) });
  if (report.status !== 'firing') return;
  if (report.duplicate) metrics.alertRepeats.inc({ team: report.team });
  else metrics.alertsOpened.inc({ team: report.team, severity: report.severity });
}

/** Worker: an escalation step ran; `step` is who is called now (the new holder's kind). */
export function recordEscalation(metrics: Metrics, event: { team: string; step: EscalationStep }): void {
  metrics.escalations.inc({ team: event.team, step: event.step });
}

/**
 * Worker: someone acknowledged the alert. Time to acknowledge counts from when the alert was first
 * seen, so an alert passed around before someone took it shows the whole wait.
 */
export function recordAcknowledgement(
  metrics: Metrics,
  event: { team: string; firstSeenAt: Date | string; at?: Date | string }
): void {
  metrics.acknowledgements.inc({ team: event.team });
  metrics.timeToAcknowledge.observe({ team: event.team }, secondsBetween(event.firstSeenAt, event.at));
}

/** Worker: someone pressed Pass and the alert went to the next engineer. */
export function recordPass(metrics: Metrics, event: { team: string }): void {
  metrics.passes.inc({ team: event.team });
}

/** Worker: the alert ended, `closed` by a person or `resolved` by its source. */
export function recordAlertEnded(
  metrics: Metrics,
  event: { team: string; state: EndedState; firstSeenAt: Date | string; at?: Date | string }
): void {
  const by = event.state === 'closed' ? 'person' : 'source';
  metrics.alertsEnded.inc({ team: event.team, state: event.state, by });
  metrics.timeToClose.observe({ team: event.team, state: event.state }, secondsBetween(event.firstSeenAt, event.at));
}

/** Worker: one Slack Web API call finished; `retried` when it ran in a retried activity attempt. */
export function recordSlackCall(
  metrics: Metrics,
  call: { method: string; outcome: SlackCallOutcome; retried?: boolean }
): void {
  metrics.slackCalls.inc({ method: call.method, outcome: call.outcome });
  if (call.retried) metrics.slackRetries.inc({ method: call.method });
}

function secondsBetween(from: Date | string, to: Date | string = new Date()): number {
  // A clock skewed between gateway and worker must not record a negative duration.
  return Math.max(0, (new Date(to).getTime() - new Date(from).getTime()) / 1000);
}
