/**
 * Structured logging (pino): one JSON line per event. Secrets are redacted by path so that a
 * token, signing secret or signature never reaches a log line, whoever logs the object.
 */
import pino from 'pino';

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
}

export function createLogger({ level = 'info', destination }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'escalator' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
