/** Severity as each tool spells it, mapped onto ours. */
import { SEVERITIES, type Severity } from '../domain/alert';

const SEVERITY_ALIASES: Record<string, Severity> = {
  critical: 'critical',
  crit: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  p1: 'critical',
  sev1: 'critical',
  error: 'error',
  high: 'error',
  major: 'error',
  p2: 'error',
  sev2: 'error',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  minor: 'warning',
  p3: 'warning',
  sev3: 'warning',
  info: 'info',
  low: 'info',
  notice: 'info',
  p4: 'info',
  p5: 'info',
  sev4: 'info',
};

/** Maps the many ways tools spell severity onto ours; anything unknown is a warning. */
export function normaliseSeverity(value: string | undefined): Severity {
  if (!value) return 'warning';
  const key = value.trim().toLowerCase();
  return SEVERITY_ALIASES[key] ?? ((SEVERITIES as readonly string[]).includes(key) ? (key as Severity) : 'warning');
}
