/** The generic JSON webhook: the contract's schema, for curl and tools that can shape a payload. */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../domain/alert';
import { derivedFingerprint } from '../domain/fingerprint';
import { InvalidAlertError, type IncomingAlert } from './types';

const SEVERITY_ALIASES: Record<string, Severity> = {
  critical: 'critical', crit: 'critical', fatal: 'critical', emergency: 'critical', p1: 'critical', sev1: 'critical',
  error: 'error', high: 'error', major: 'error', p2: 'error', sev2: 'error',
  warning: 'warning', warn: 'warning', medium: 'warning', minor: 'warning', p3: 'warning', sev3: 'warning',
  info: 'info', low: 'info', notice: 'info', p4: 'info', p5: 'info', sev4: 'info',
};

/** Maps the many ways tools spell severity onto ours; anything unknown is a warning. */
export function normaliseSeverity(value: string | undefined): Severity {
  if (!value) return 'warning';
  const key = value.trim().toLowerCase();
  return SEVERITY_ALIASES[key] ?? ((SEVERITIES as readonly string[]).includes(key) ? (key as Severity) : 'warning');
}

export const genericAlertSchema = z.object({
  title: z.string().trim().min(1, 'title is required').max(500),
  text: z.string().max(20_000).optional(),
  severity: z.string().max(50).optional(),
  key: z.string().trim().min(1).max(500).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  source: z.string().trim().min(1).max(100).optional(),
  link: z.url({ protocol: /^https?$/ }).max(2_000).optional(),
});

/** Validates a generic alert body; throws InvalidAlertError naming every field that is wrong. */
export function normaliseGenericAlert(body: unknown): IncomingAlert {
  const parsed = genericAlertSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidAlertError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')
    );
  }
  const alert = parsed.data;
  const source = alert.source ?? 'generic';
  return {
    status: alert.status ?? 'firing',
    fingerprint: alert.key ?? derivedFingerprint(source, alert.title),
    content: {
      title: alert.title,
      text: alert.text,
      severity: normaliseSeverity(alert.severity),
      source,
      link: alert.link,
    },
  };
}
