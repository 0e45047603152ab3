/** Input validation for handlers: zod schemas whose failures become 400s naming each field. */
import type { z } from 'zod';
import { HttpError } from './errors';

/**
 * Parses `value` with `schema`, or throws a 400 HttpError listing every problem as
 * `field: message` (`what` names the whole input when the problem is not in one field).
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpError(
    400,
    parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || what}: ${issue.message}`).join('; ')
  );
}
