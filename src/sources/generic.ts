/**
 * The generic webhook: the contract's JSON schema for curl and tools that can shape a payload,
 * and the looser forms simple tools send (form fields, plain text, query parameters).
 */
import { z } from 'zod';
import { derivedFingerprint } from '../domain/fingerprint';
import { flattenedFields, isPlainObject, titleAndTextOf } from './fields';
import { isNewRelicIssue, normaliseNewRelicIssue } from './new-relic';
import { readSeverity, unknownSeverityMessage } from './severity';
import { InvalidAlertError, type IncomingAlert } from './types';
import { isUptimeRobotAlert, normaliseUptimeRobotAlert } from './uptime-robot';

export { normaliseSeverity } from './severity';

export const genericAlertSchema = z.object({
  title: z.string().trim().min(1, 'title is required').max(500),
  text: z.string().max(20_000).optional(),
  severity: z.string().max(50).optional(),
  key: z.string().trim().min(1).max(500).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  /** Which firing this is (any stable text, usually a time): a re-send of the same firing is not counted again. */
  startsAt: z.string().trim().min(1).max(100).optional(),
  source: z.string().trim().min(1).max(100).optional(),
  link: z
    .url({ protocol: /^https?$/ })
    .max(2_000)
    .optional(),
});

const GENERIC_KEYS = Object.keys(genericAlertSchema.shape);

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
  const severity = alert.severity?.trim() ? readSeverity(alert.severity) : { severity: 'warning' as const };
  if ('unknown' in severity) throw new InvalidAlertError(unknownSeverityMessage(severity.unknown));
  return {
    status: alert.status ?? 'firing',
    ...(severity.mappedFrom !== undefined ? { severityMappedFrom: severity.mappedFrom } : {}),
    fingerprint: alert.key ?? derivedFingerprint(source, alert.title),
    ...(alert.startsAt ? { firingKey: alert.startsAt } : {}),
    content: {
      title: alert.title,
      text: alert.text,
      severity: severity.severity,
      source,
      link: alert.link,
    },
  };
}

/** An HTTP request to the generic webhook, as the gateway received it. */
export interface GenericRequest {
  /** The Content-Type header, parameters and all. */
  contentType?: string;
  /** The body: parsed (JSON object, form fields) or raw (string or Buffer); absent for GET. */
  body?: unknown;
  /** Query parameters; body values win over them. */
  query?: Record<string, unknown>;
  /** The X-Alert-Key header: the fingerprint, whatever the body says. */
  alertKey?: string;
}

/** The body of a request, decoded by its content type. */
export type RequestBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'fields'; values: Record<string, unknown> }
  | { kind: 'text'; text: string }
  | { kind: 'empty' };

/**
 * Decodes a request body. JSON that arrives as a form (`curl -d '{…}'` without a Content-Type)
 * or as text/plain is read as JSON, as its sender meant. Throws InvalidAlertError for a JSON
 * content type whose body does not parse.
 */
export function readRequestBody(request: Pick<GenericRequest, 'contentType' | 'body'>): RequestBody {
  const mediaType = request.contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  const isJson = mediaType === 'application/json' || mediaType.endsWith('+json');
  const isForm = mediaType === 'application/x-www-form-urlencoded';
  const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : request.body;

  if (body === undefined || body === null || body === '') return { kind: 'empty' };
  if (typeof body === 'string') {
    if (isJson) {
      try {
        return { kind: 'json', value: JSON.parse(body) as unknown };
      } catch {
        throw new InvalidAlertError('body is not valid JSON');
      }
    }
    const json = jsonObjectIn(body);
    if (json) return { kind: 'json', value: json };
    if (isForm) return { kind: 'fields', values: Object.fromEntries(new URLSearchParams(body)) };
    return body.trim() === '' ? { kind: 'empty' } : { kind: 'text', text: body };
  }
  if (isForm && isPlainObject(body)) {
    // express.urlencoded turns `curl -d '{"title":"x"}'` into one key holding the JSON, valued ''.
    const keys = Object.keys(body);
    const json = keys.length === 1 && body[keys[0]!] === '' ? jsonObjectIn(keys[0]!) : undefined;
    return json ? { kind: 'json', value: json } : { kind: 'fields', values: firstValues(body) };
  }
  return { kind: 'json', value: body };
}

/**
 * The generic webhook in all its forms: JSON (the contract's schema), form fields, text/plain
 * (first line the title, the rest the text), and GET query parameters; Uptime Robot's and New
 * Relic's payloads are recognised in any of them. Fields the schema does not know are kept and
 * shown (the first 8, flattened as `a.b.c`), never refused. The X-Alert-Key header sets the
 * fingerprint. Throws InvalidAlertError naming what is wrong.
 */
export function normaliseGenericRequest(request: GenericRequest): IncomingAlert {
  const body = readRequestBody(request);
  if (body.kind === 'json' && !isPlainObject(body.value)) throw new InvalidAlertError('body must be a JSON object');
  const values: Record<string, unknown> = {
    ...firstValues(request.query ?? {}),
    ...(body.kind === 'json' ? (body.value as Record<string, unknown>) : {}),
    ...(body.kind === 'fields' ? body.values : {}),
    ...(body.kind === 'text' ? titleAndTextOf(body.text) : {}),
  };
  const alertKey = request.alertKey?.trim() || undefined;

  let alert: IncomingAlert;
  if (isUptimeRobotAlert(values)) {
    alert = normaliseUptimeRobotAlert(values);
  } else if (isNewRelicIssue(values)) {
    alert = normaliseNewRelicIssue(values);
  } else {
    if (values.title === undefined) {
      throw new InvalidAlertError(
        'title is required: send JSON {"title": …}, a title form field or query parameter, or text whose first line is the title'
      );
    }
    const generic = normaliseGenericAlert(values);
    const fields = flattenedFields(values, { exclude: GENERIC_KEYS });
    alert = { ...generic, content: { ...generic.content, ...(fields.length > 0 ? { fields } : {}) } };
  }
  return alertKey ? { ...alert, fingerprint: alertKey } : alert;
}

function jsonObjectIn(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Query strings and forms repeat keys as arrays; the first value is the one meant. */
function firstValues(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, Array.isArray(value) ? (value[0] as unknown) : value])
  );
}
