/**
 * What senders put in alerts by mistake stays out of Slack, the database, workflow inputs and ids,
 * and the log: values of fields named like secrets (`password`, `db_pass`, …), credentials inside
 * URLs (`https://user:pass@…`, `?token=…`), `password=…`-style pairs in free text, and secrets
 * recognised by their shape wherever they stand (`Bearer …`, Slack `xox…-` tokens, GitHub `ghp_…`,
 * AWS access key ids, PEM private keys) are masked; bidirectional overrides and invisible
 * characters (which can make a message read other than it is, or hide a secret from the patterns)
 * are removed. Applied once to every normalised alert, keys included, before anything is stored
 * or signalled.
 */
import { createHash } from 'node:crypto';
import type { AlertContent, AlertField } from '../domain/alert';
import type { IncomingAlert } from './types';

/** What a masked value reads as. */
export const MASK = '[masked]';

/** Words that name a secret, matched in a label with separators and case removed (`API-Key` → `apikey`). */
const SECRET_NAME =
  /password|passwd|passphrase|pwd|secret|token|apikey|authorization|credential|privatekey|accesskey|cookie|sessionid/;

/** `db_pass`, `DB-PASS`, `smtpPass`, `pass`: a name whose last word is `pass` (not `bypass`, `compass`). */
const PASS_NAME = /(?:^|[^a-z0-9])pass$/i;
const CAMEL_PASS_NAME = /[a-z0-9]Pass$/;

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+061C), zero-width
 * and invisible characters (U+200B–U+200F, U+2060–U+2064, U+FEFF, U+180E, U+00AD, U+034F), the
 * Hangul fillers that render as nothing (U+115F, U+1160, U+3164, U+FFA0), the line and paragraph
 * separators (U+2028, U+2029) and Unicode tag characters (U+E0000–U+E007F), which are invisible and
 * can sit inside a word (`pass\u{E0001}word=…`) to hide it from the patterns below.
 */
const HIDDEN_CHARACTERS =
  /[\u202A-\u202E\u2066-\u2069\u061C\u200B-\u200F\u2060-\u2064\uFEFF\u180E\u00AD\u115F\u1160\u3164\uFFA0\u2028\u2029\u{E0000}-\u{E007F}]|\u034F/gu;

/**
 * Secrets recognised by their shape wherever they stand: PEM private keys (to their END line or
 * the end of the text), `Bearer …`, Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`,
 * `xapp-`), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), AWS access key
 * ids (`AKIA…`, `ASIA…`).
 */
const SECRET_SHAPES: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, MASK],
  [/\b(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, `$1${MASK}`],
  [/\b(?:xox[abprs]|xapp)-[A-Za-z0-9-]{6,}/g, MASK],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})/g, MASK],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, MASK],
];

/** The user-info part of any URL: `scheme://user:pass@` or `scheme://token@`. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** A query parameter whose name names a secret: `?api_key=…`, `&access_token=…`. */
const SECRET_QUERY_PARAMETER =
  /([?&;][^=&#\s]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|signature|authorization|credential)[^=&#\s]*=)[^&#\s]+/gi;

/** `password=hunter2`, `"api_key": "…"`, `Authorization: Bearer …` in free text. */
const SECRET_PAIR =
  /\b((?:[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|credential)[\w.-]*|[\w.-]*[_.-]pass|pass|authorization)["']?\s*[:=]\s*["']?)((?:bearer|basic|token)\s+)?[^\s"',;&]+/gi;

/** `isSecretName('db.Password')` → true. */
export function isSecretName(label: string): boolean {
  const bare = label.replace(HIDDEN_CHARACTERS, '');
  return (
    SECRET_NAME.test(bare.toLowerCase().replace(/[^a-z0-9]/g, '')) || PASS_NAME.test(bare) || CAMEL_PASS_NAME.test(bare)
  );
}

/** Text with hidden characters removed and credentials inside it masked. */
export function maskSecretsInText(text: string): string {
  let masked = text.replace(HIDDEN_CHARACTERS, '');
  for (const [shape, replacement] of SECRET_SHAPES) masked = masked.replace(shape, replacement);
  return masked
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

/**
 * A key (fingerprint, firing key) as it may be kept and become part of a workflow id and a button
 * value: unchanged when masking finds nothing in it, so that readable ids stay readable and the
 * same key keeps naming the same alert. When masking changes it, the masked text keeps what is
 * readable and a hash of the original keeps two keys that differ only in their secret apart, and
 * the same key stable (`deploy token=[masked]#3f2a…`). The hash is 64 bits of SHA-256: it names,
 * it does not hide a guessable secret, which is why the secret's shape must not be guessable.
 */
export function maskSecretsInKey(key: string): string {
  const masked = maskSecretsInText(key);
  if (masked === key) return key;
  return `${masked}#${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** Every alert of a request, masked: its content and its keys. */
export function withSecretsMasked(alerts: IncomingAlert[]): IncomingAlert[] {
  return alerts.map((alert) => ({
    ...alert,
    fingerprint: maskSecretsInKey(alert.fingerprint),
    ...(alert.firingKey !== undefined ? { firingKey: maskSecretsInKey(alert.firingKey) } : {}),
    content: maskSecrets(alert.content),
  }));
}
