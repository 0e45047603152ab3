/**
 * New Relic workflow webhooks. The payload is a template the user owns; this reads New Relic's
 * default template (id, issueUrl, title, priority, state, impactedEntities, totalIncidents,
 * alertPolicyNames, alertConditionNames), which is what a new webhook destination sends.
 */
import { compactFields, displayValue, field, httpLink, MAX_TITLE_LENGTH, truncate } from './fields';
import { normaliseSeverity } from './severity';
import type { IncomingAlert } from './types';

/** True for New Relic's default issue payload: an issue URL and an issue state. */
export function isNewRelicIssue(values: Record<string, unknown>): boolean {
  return typeof values.issueUrl === 'string' && typeof values.state === 'string' && values.id !== undefined;
}

/**
 * A New Relic issue as an alert, keyed by issue id: CLOSED resolves it; priority CRITICAL, HIGH,
 * MEDIUM, LOW maps to critical, error, warning, info.
 */
export function normaliseNewRelicIssue(values: Record<string, unknown>): IncomingAlert {
  const id = displayValue(values.id);
  const firstOf = (value: unknown): string | undefined =>
    (Array.isArray(value) ? displayValue(value[0]) : displayValue(value)) || undefined;
  const title = firstOf(values.title) ?? firstOf(values.alertConditionNames) ?? `New Relic issue ${id}`;
  return {
    status: String(values.state).toUpperCase() === 'CLOSED' ? 'resolved' : 'firing',
    fingerprint: `newrelic-${id}`,
    content: {
      title: truncate(title, MAX_TITLE_LENGTH),
      severity: normaliseSeverity(displayValue(values.priority)),
      source: 'newrelic',
      link: httpLink(values.issueUrl),
      fields: compactFields([
        field('State', values.state),
        field('Policy', values.alertPolicyNames),
        field('Condition', values.alertConditionNames),
        field('Entities', values.impactedEntities),
        field('Incidents', values.totalIncidents),
      ]),
    },
  };
}
