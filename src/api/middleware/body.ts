/** Body parsers with explicit limits: every route that reads a body says how much it accepts. */
import express, { type RequestHandler } from 'express';
import { HttpError } from '../errors';

/** Reads the body as raw bytes whatever its Content-Type (Slack signatures cover the exact bytes). */
export function rawBody(limit: string): RequestHandler {
  return express.raw({ type: () => true, limit });
}

/** Parses bytes read by `rawBody` as JSON; throws a 400 HttpError that quotes the parser. */
export function parseJson(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') throw new HttpError(400, 'body is not valid JSON: the body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * A JSON body whatever the Content-Type says: `curl -d` sends form-encoded by default and SNS sends
 * JSON as text/plain, and either way the sender meant JSON.
 */
export function jsonBody(limit: string): RequestHandler[] {
  return [
    rawBody(limit),
    (req, _res, next) => {
      req.body = parseJson(req.body);
      next();
    },
  ];
}
