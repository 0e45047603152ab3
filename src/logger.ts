/**
 * Structured logging (pino): one JSON line per event, or, for a person at a terminal, one short
 * line through pino-pretty. Secrets are redacted by path so that a token, signing secret or
 * signature never reaches a log line, whoever logs the object; Temporal task tokens (which let
 * their holder complete an activity) are dropped; and strings a sender controls are cut to a sane
 * length, so that a 900 KB button value is not a 900 KB log line.
 */
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

const REDACTED_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'signingSecret',
  '*.signingSecret',
  'adminToken',
  '*.adminToken',
  'databaseUrl',
  '*.databaseUrl',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-slack-signature"]',
];

/** Dropped from every line rather than masked: nobody reading a log needs them. */
const DROPPED_PATHS = ['taskToken', '*.taskToken'];

/** Longest string kept whole in a log line; the rest is cut with a note of the original length. */
export const MAX_LOGGED_STRING_LENGTH = 2_000;
/** How deep into a logged object strings are cut; deeper objects are left as they are. */
const MAX_CUT_DEPTH = 6;

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture them. */
  destination?: pino.DestinationStream;
  /** Unset: pretty when stdout is a terminal (and no destination is given), JSON otherwise. */
  format?: 'pretty' | 'json';
}

/**
 * Fields that only machines read: left out of pretty lines (JSON keeps them all). Request
 * lines keep their message (`request completed`) with method, URL, status and time.
 */
const PRETTY_HIDDEN = [
  'pid',
  'hostname',
  'service',
  'component',
  'dryRun',
  'method',
  'channel',
  'text',
  'ts',
  'threadTs',
  'blocks',
  'req.headers',
  'req.remoteAddress',
  'req.remotePort',
  'req.userAgent',
  'res.headers',
].join(',');

export function createLogger({ level = 'info', destination, format }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'escalator' },
    redact: {
      paths: [...REDACTED_PATHS, ...DROPPED_PATHS],
      // A censor that answers undefined removes the key from the line.
      censor: (_value: unknown, path: string[]) => (path.at(-1) === 'taskToken' ? undefined : '[redacted]'),
    },
    formatters: { log: (object) => cutLongStrings(object, 0) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const wantsPretty = format === 'pretty' || (format === undefined && !destination && process.stdout.isTTY === true);
  if (wantsPretty) {
    // Synchronous, in this thread: a worker-thread transport could lose the last lines at exit.
    const stream = pretty({
      destination: destination ?? 1,
      sync: true,
      colorize: process.stdout.isTTY === true && !destination,
      translateTime: 'SYS:HH:MM:ss',
      ignore: PRETTY_HIDDEN,
      singleLine: true,
    });
    return pino(options, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}

/** A copy of `value` with every string longer than MAX_LOGGED_STRING_LENGTH cut; errors pass whole. */
function cutLongStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    return value.length <= MAX_LOGGED_STRING_LENGTH
      ? value
      : `${value.slice(0, MAX_LOGGED_STRING_LENGTH)}… [${value.length} characters]`;
  }
  if (depth >= MAX_CUT_DEPTH || typeof value !== 'object' || value === null || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => cutLongStrings(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutLongStrings(item, depth + 1)]));
}
