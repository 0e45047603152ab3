/** Severity as each tool spells it, mapped onto ours. */
import { SEVERITIES, type Severity } from '../domain/alert';

/** Other tools' words for our severities; docs/sources.md shows this table (test/docs checks it). */
export const SEVERITY_ALIASES: Record<string, Severity> = {
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

/** A severity word as a sender wrote it, read: ours, or mapped from an alias (docs/sources.md lists them). */
export type ReadSeverity = { severity: Severity; mappedFrom?: string } | { unknown: string };

/**
 * Reads a severity strictly: one of ours (any case), or an alias of the table above, reported as
 * mapped so that the sender can see what it became; anything else is unknown. For the generic
 * webhook, whose sender chose the word and reads the answer.
 */
export function readSeverity(value: string): ReadSeverity {
  const key = value.trim().toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(key)) return { severity: key as Severity };
  const alias = SEVERITY_ALIASES[key];
  return alias ? { severity: alias, mappedFrom: value } : { unknown: value };
}

/** Why an unknown severity is refused, naming what is accepted. */
export function unknownSeverityMessage(value: string): string {
  return `severity: "${value}" is not a severity: use ${SEVERITIES.join(', ')} (aliases such as p1, high, warn and low are mapped, see docs/sources.md)`;
}

/**
 * Maps the many ways tools spell severity onto ours; anything unknown is a warning. For payloads a
 * tool shapes (Alertmanager labels, New Relic priorities), whose sender never reads an answer and
 * would drop a refused report: the report is kept, and the source shows the word it was given.
 */
export function normaliseSeverity(value: string | undefined): Severity {
  if (!value) return 'warning';
  const read = readSeverity(value);
  return 'severity' in read ? read.severity : 'warning';
}
