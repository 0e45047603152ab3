/**
 * Prometheus Alertmanager's webhook (version 4) and Grafana's variant of it: one request carries
 * a group of alerts, each with its own fingerprint and status, so a group can open one alert and
 * resolve another.
 */
import { z } from 'zod';
import { derivedFingerprint } from '../domain/fingerprint';
import { compactFields, field, httpLink, isPlainObject, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, truncate } from './fields';
import { normaliseSeverity } from './severity';
import type { IncomingAlert } from './types';
import { assertAlertsWithinLimits, assertInputWithinLimits } from './input-limits';
import { withSecretsMasked } from './secrets';
import { parseOrThrow } from './validation';

const MAX_FIELDS = 10;

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
  // Grafana's additions; it sends "" for links it does not have.
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  values: z.record(z.string(), z.unknown()).nullish(),
});

const webhookSchema = z.object({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  orgId: z.number().optional(),
  alerts: z.array(alertSchema).min(1, 'must hold at least one alert'),
});

type AlertmanagerAlert = z.infer<typeof alertSchema>;

/** True when `value` looks like an Alertmanager or Grafana webhook: an `alerts` list and a group envelope. */
export function isAlertmanagerWebhook(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    Array.isArray(value.alerts) &&
    ('groupKey' in value || 'receiver' in value || 'commonLabels' in value)
  );
}

/**
 * One IncomingAlert per entry of `alerts`, each keyed by its own fingerprint. Throws
 * InvalidAlertError naming what is wrong (a status that is neither firing nor resolved, no alerts).
 */
export function normaliseAlertmanagerWebhook(body: unknown): IncomingAlert[] {
  assertInputWithinLimits(body);
  const alerts = alertmanagerAlerts(body);
  assertAlertsWithinLimits(alerts);
  return withSecretsMasked(alerts);
}

/** The same, unmasked: for normaliseWebhookRequest, which masks whatever it recognised once. */
export function alertmanagerAlerts(body: unknown): IncomingAlert[] {
  const webhook = parseOrThrow(webhookSchema, body, 'Alertmanager webhook');
  const fromGrafana =
    webhook.orgId !== undefined ||
    webhook.alerts.some((alert) => alert.dashboardURL !== undefined || alert.panelURL !== undefined);
  const source = fromGrafana ? 'grafana' : 'alertmanager';
  return webhook.alerts.map((alert) => alertmanagerAlert(alert, source));
}

function alertmanagerAlert(alert: AlertmanagerAlert, source: string): IncomingAlert {
  const { labels, annotations } = alert;
  const summary = annotations.summary?.trim();
  const title = summary || labels.alertname?.trim() || `Alert ${alert.fingerprint ?? ''}`.trim();
  const text = annotations.description ?? annotations.message;
  // Labels are an alert's identity in Prometheus; without a fingerprint they still name it.
  const labelIdentity = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${labels[name]}`)
    .join(',');
  const severity = normaliseSeverity(labels.severity);
  // A severity label that is not one of ours word for word (`page`, `high`) is shown as it came.
  const severityShown = labels.severity !== undefined && labels.severity.trim().toLowerCase() !== severity;
  const shownLabels = Object.entries(labels).filter(
    ([name]) => (name !== 'severity' || severityShown) && !name.startsWith('__') && !(name === 'alertname' && !summary)
  );
  const shownAnnotations = Object.entries(annotations).filter(
    ([name]) => !['summary', 'description', 'message'].includes(name)
  );
  const values = alert.values
    ? Object.entries(alert.values)
        .map(([name, value]) => `${name}=${String(value)}`)
        .join(', ')
    : undefined;
  return {
    status: alert.status,
    fingerprint: alert.fingerprint || derivedFingerprint(source, labelIdentity),
    ...(alert.startsAt ? { firingKey: alert.startsAt } : {}),
    content: {
      title: truncate(title, MAX_TITLE_LENGTH),
      text: text?.trim() ? truncate(text.trim(), MAX_TEXT_LENGTH) : undefined,
      severity,
      source,
      link: httpLink(alert.panelURL) ?? httpLink(alert.dashboardURL) ?? httpLink(alert.generatorURL),
      fields: compactFields(
        [
          ...shownLabels.map(([name, value]) => field(name, value)),
          ...shownAnnotations.map(([name, value]) => field(name, value)),
          field('Values', values),
          field('Silence', httpLink(alert.silenceURL)),
        ],
        MAX_FIELDS
      ),
    },
  };
}
