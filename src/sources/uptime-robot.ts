/**
 * Uptime Robot's webhook alert contact. It sends its notification variables (monitorID,
 * monitorURL, monitorFriendlyName, alertType 1 = down, 2 = up, 3 = SSL expiry, alertTypeFriendlyName,
 * alertDetails, alertDuration in seconds, alertDateTime, sslExpiryDate, sslExpiryDaysLeft) as query
 * parameters, form fields or JSON, as the contact is set up; all arrive here as one record.
 */
import type { Severity } from '../domain/alert';
import { derivedFingerprint } from '../domain/fingerprint';
import { compactFields, displayValue, field, httpLink, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, truncate } from './fields';
import { normaliseSeverity } from './severity';
import type { IncomingAlert } from './types';

const DOWN = '1';
const UP = '2';

/** True when the request carries Uptime Robot's monitor variables. */
export function isUptimeRobotAlert(values: Record<string, unknown>): boolean {
  return 'monitorFriendlyName' in values || ('monitorID' in values && 'alertType' in values);
}

/**
 * An Uptime Robot notification as an alert: down fires, up resolves the same alert (keyed by
 * monitor), an SSL expiry notice is a warning of its own. A `severity` parameter added to the
 * webhook URL overrides the default.
 */
export function normaliseUptimeRobotAlert(values: Record<string, unknown>): IncomingAlert {
  const text = (key: string): string | undefined => displayValue(values[key]) || undefined;
  const monitorId = text('monitorID');
  const monitorUrl = text('monitorURL');
  const name = text('monitorFriendlyName') ?? monitorUrl ?? `monitor ${monitorId ?? ''}`.trim();
  const alertType = text('alertType');
  const typeName = text('alertTypeFriendlyName');
  const isOutage = alertType === DOWN || alertType === UP;
  const title =
    alertType === DOWN ? `${name} is down` : alertType === UP ? `${name} is up` : `${name}: ${typeName ?? 'alert'}`;
  const defaultSeverity: Severity = isOutage ? 'error' : 'warning';
  const seconds = Number(text('alertDuration'));
  return {
    status: alertType === UP ? 'resolved' : 'firing',
    // Down and up of one monitor are one alert; its certificate notices are another.
    fingerprint: monitorId
      ? `uptimerobot-${monitorId}${isOutage ? '' : `-${alertType ?? 'notice'}`}`
      : derivedFingerprint('uptimerobot', `${name}\n${isOutage ? 'outage' : (alertType ?? '')}`),
    content: {
      title: truncate(title, MAX_TITLE_LENGTH),
      text: text('alertDetails') ? truncate(text('alertDetails')!, MAX_TEXT_LENGTH) : undefined,
      severity: text('severity') ? normaliseSeverity(text('severity')) : defaultSeverity,
      source: 'uptimerobot',
      link: httpLink(monitorUrl),
      fields: compactFields([
        field('Monitor', monitorUrl),
        field('Down for', Number.isFinite(seconds) && seconds > 0 ? formatDuration(seconds) : undefined),
        field('SSL expires', text('sslExpiryDate')),
        field('SSL days left', text('sslExpiryDaysLeft')),
      ]),
    },
  };
}

function formatDuration(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.floor(totalSeconds % 60);
  return [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', seconds || (!hours && !minutes) ? `${seconds}s` : '']
    .filter(Boolean)
    .join(' ');
}
