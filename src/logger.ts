/**
 * Structured logging (pino): one JSON line per event, or, for a person at a terminal, one short
 * line through pino-pretty. Secrets are redacted by path so that a
 * token, signing secret or signature never reaches a log line, whoever logs the object.
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
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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
