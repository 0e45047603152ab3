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

/** A UUID, as every id of the API is (path ids, and ids in bodies such as `teamId`). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id in a path (`/api/teams/:id`), the same way for every resource: ids are UUIDs, and an id
 * that is not one names nothing, so it is the same 404 as an id that matches nothing
 * (`no team with this id`), never a 400 for one resource and a 404 for another.
 */
export function pathId(param: unknown, what: string): string {
  if (typeof param !== 'string' || !UUID.test(param)) throw new HttpError(404, `no ${what} with this id`);
  return param;
}
