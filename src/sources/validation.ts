/** Validating a sender's payload with zod and saying what is wrong in a 400 the sender can act on. */
import type { z } from 'zod';
import { InvalidAlertError } from './types';

/** Parses `value` with `schema`, or throws InvalidAlertError naming each wrong field, prefixed with `what`. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what?: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
  throw new InvalidAlertError(what ? `${what}: ${issues}` : issues);
}
