/** Turning what a source sent into the few labelled values shown with an alert. */
import type { AlertField } from '../domain/alert';
import { InvalidAlertError } from './types';

export const MAX_TITLE_LENGTH = 500;
export const MAX_TEXT_LENGTH = 20_000;
const MAX_FIELD_VALUE_LENGTH = 200;
const MAX_LINK_LENGTH = 2_000;
const DEFAULT_FIELD_LIMIT = 8;
/**
 * How deep and how wide a sender's extra values may be. Flattening and showing them recurse, and
 * a 20 KB body of 10,000 nested arrays would otherwise overflow the stack (a 500, which senders retry
 * for ever); no real alert comes near these.
 */
export const MAX_VALUE_DEPTH = 32;
export const MAX_VALUE_ENTRIES = 1_000;

/** Cuts `value` to `max` characters, marking the cut with an ellipsis. */
export function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** `value` when it is an absolute http(s) URL, otherwise undefined: links from senders must not be `javascript:`. */
export function httpLink(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A field with its value cut to what fits beside an alert; empty values are dropped. Links are
 * kept whole (a cut link leads nowhere) up to a sane length.
 */
export function field(label: string, value: unknown): AlertField | undefined {
  const text = displayValue(value);
  if (text === '') return undefined;
  if (text.length <= MAX_LINK_LENGTH && httpLink(text)) return { label, value: text };
  return { label, value: truncate(text, MAX_FIELD_VALUE_LENGTH) };
}

/** The fields that have a value, in order, at most `limit`. */
export function compactFields(fields: (AlertField | undefined)[], limit = Infinity): AlertField[] | undefined {
  const present = fields.filter((entry): entry is AlertField => entry !== undefined).slice(0, limit);
  return present.length > 0 ? present : undefined;
}

/**
 * Everything a sender put in an object that we do not otherwise show, as fields: nested keys
 * flattened to `a.b.c`, the first `limit` only, long values cut. Nothing a sender adds is refused.
 */
export function flattenedFields(
  record: Record<string, unknown>,
  options: { exclude?: readonly string[]; limit?: number } = {}
): AlertField[] {
  const exclude = new Set(options.exclude ?? []);
  const limit = options.limit ?? DEFAULT_FIELD_LIMIT;
  for (const [key, value] of Object.entries(record)) {
    if (!exclude.has(key)) assertBoundedValue(key, value);
  }
  const fields: AlertField[] = [];
  const visit = (value: unknown, path: string): void => {
    if (fields.length >= limit) return;
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [key, nested] of Object.entries(value)) visit(nested, path ? `${path}.${key}` : key);
      return;
    }
    const entry = field(path, value);
    if (entry) fields.push(entry);
  };
  for (const [key, value] of Object.entries(record)) {
    if (!exclude.has(key)) visit(value, key);
  }
  return fields;
}

/** How a value reads in a field: strings as they are, lists joined, anything else as JSON. */
export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  assertBoundedValue('value', value);
  if (Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
    return value.join(', ');
  }
  return JSON.stringify(value) ?? '';
}

/**
 * Refuses (InvalidAlertError, a 400) a value nested deeper than MAX_VALUE_DEPTH or with more than
 * MAX_VALUE_ENTRIES entries in one object or list. Walks with its own stack, so that the check
 * itself cannot overflow.
 */
export function assertBoundedValue(name: string, value: unknown): void {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MAX_VALUE_DEPTH) {
      throw new InvalidAlertError(`${name} is nested more than ${MAX_VALUE_DEPTH} levels deep`);
    }
    const entries = Array.isArray(current) ? current : Object.values(current);
    if (entries.length > MAX_VALUE_ENTRIES) {
      throw new InvalidAlertError(`${name} has more than ${MAX_VALUE_ENTRIES} entries in one object or list`);
    }
    for (const entry of entries) pending.push({ value: entry, depth: depth + 1 });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Title and text from free text: the first non-empty line is the title, the rest the text. */
export function titleAndTextOf(message: string): { title: string; text?: string } {
  const lines = message.replace(/\r\n?/g, '\n').split('\n');
  const titleIndex = lines.findIndex((line) => line.trim() !== '');
  if (titleIndex < 0) return { title: '' };
  const rest = lines
    .slice(titleIndex + 1)
    .join('\n')
    .trim();
  return {
    title: truncate(lines[titleIndex]!.trim(), MAX_TITLE_LENGTH),
    text: rest === '' ? undefined : truncate(rest, MAX_TEXT_LENGTH),
  };
}
