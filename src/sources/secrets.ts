/**
 * What senders put in alerts by mistake stays out of Slack, the database and workflow inputs:
 * values of fields named like secrets, credentials inside URLs (`https://user:pass@…`, `?token=…`)
 * and `password=…`-style pairs in free text are masked; bidirectional overrides and invisible
 * characters (which can make a message read other than it is) are removed. Applied once to every
 * normalised alert, before anything is stored or signalled.
 */
import type { AlertContent, AlertField } from '../domain/alert';
import type { IncomingAlert } from './types';

/** What a masked value reads as. */
export const MASK = '[masked]';

/** Words that name a secret, matched in a label with separators and case removed (`API-Key` → `apikey`). */
const SECRET_NAME =
  /password|passwd|pwd|secret|token|apikey|authorization|credential|privatekey|accesskey|cookie|sessionid/;

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+061C), zero-width
 * and invisible characters (U+200B–U+200F, U+2060–U+2064, U+FEFF, U+180E, U+00AD).
 */
const HIDDEN_CHARACTERS = /[\u202A-\u202E\u2066-\u2069\u061C\u200B-\u200F\u2060-\u2064\uFEFF\u180E\u00AD]/g;

/** The user-info part of any URL: `scheme://user:pass@` or `scheme://token@`. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** A query parameter whose name names a secret: `?api_key=…`, `&access_token=…`. */
const SECRET_QUERY_PARAMETER =
  /([?&;][^=&#\s]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|signature|authorization|credential)[^=&#\s]*=)[^&#\s]+/gi;

/** `password=hunter2`, `"api_key": "…"`, `Authorization: Bearer …` in free text. */
const SECRET_PAIR =
  /\b((?:[\w.-]*(?:password|passwd|secret|token|api[_-]?key|apikey|credential)[\w.-]*|authorization)["']?\s*[:=]\s*["']?)((?:bearer|basic|token)\s+)?[^\s"',;&]+/gi;

/** `isSecretName('db.Password')` → true. */
export function isSecretName(label: string): boolean {
  return SECRET_NAME.test(label.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Text with hidden characters removed and credentials inside it masked. */
export function maskSecretsInText(text: string): string {
  return text
    .replace(HIDDEN_CHARACTERS, '')
    .replace(URL_USER_INFO, `$1${MASK}@`)
    .replace(SECRET_QUERY_PARAMETER, `$1${MASK}`)
    .replace(SECRET_PAIR, (_match, key: string, scheme?: string) => `${key}${scheme ?? ''}${MASK}`);
}

function maskField(field: AlertField): AlertField {
  const label = field.label.replace(HIDDEN_CHARACTERS, '');
  return { label, value: isSecretName(label) ? MASK : maskSecretsInText(field.value) };
}

/** The content as it may be shown and kept. */
export function maskSecrets(content: AlertContent): AlertContent {
  return {
    ...content,
    title: maskSecretsInText(content.title),
    source: maskSecretsInText(content.source),
    ...(content.text !== undefined ? { text: maskSecretsInText(content.text) } : {}),
    ...(content.link !== undefined ? { link: maskSecretsInText(content.link) } : {}),
    ...(content.fields !== undefined ? { fields: content.fields.map(maskField) } : {}),
  };
}

/** Every alert of a request, masked. */
export function withSecretsMasked(alerts: IncomingAlert[]): IncomingAlert[] {
  return alerts.map((alert) => ({ ...alert, content: maskSecrets(alert.content) }));
}
