/**
 * Durations as people write them (`30s`, `2m`, `5m`, `1h`, `500ms`): the one form the API,
 * configuration and Slack commands take, and the one they show. Pure.
 */

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Parses `30s`, `2m`, `5m`, `1h`, `500ms` into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  return ms > 0 ? Math.round(ms) : undefined;
}

/**
 * Milliseconds in the form parseDuration reads, in the largest unit that keeps them whole: `5m`,
 * `90s`, `2h`, `1500ms`. parseDuration(formatDuration(ms)) is ms.
 */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms % DURATION_UNITS_MS[unit] === 0) return `${ms / DURATION_UNITS_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
