/**
 * Who is on call: pure functions of a schedule and instants (epoch milliseconds). No I/O, no
 * clock: the API, the calendar feed and the alert's activity all ask these, and the same schedule
 * version and instant always give the same answer.
 *
 * At an instant, every rotation that covers it (a shift, inside its active windows, between its
 * start and end) offers its shift's members; the highest layer among them wins, equal layers
 * together. Overrides then apply oldest to newest, so that where two disagree the newest has the
 * last word: `add` puts a person on call, `remove` takes one off, both together put `add` in the
 * place of `remove` (or of whoever an earlier override put there).
 */
import { rotationPieces, shiftIndexAt, shiftMembers, shiftStart, type RotationPiece } from './rotation';
import { compileSchedule, type CompiledSchedule, type Override, type Schedule } from './schedule';
import { DAY_MS } from './zone-clock';

/** Why someone is on call, or why someone is not. */
export interface Via {
  /** The rotation whose shift it is; null for a person an override added on their own. */
  rotation: string | null;
  layer: number | null;
  overrideId?: string;
}

/** Who holds a person's time on call in a segment: a rotation's shift, an override, or both. */
interface Holding {
  rotation: string | null;
  layer: number | null;
  shift: number | null;
  overrideId?: string;
}

/** A stretch of time over which the answer does not change. */
export interface Segment {
  start: number;
  end: number;
  users: string[];
  holdings: Map<string, Holding>;
  via: Via[];
}

export interface OnCallAnswer {
  users: string[];
  /** The next instant the answer changes; null when it does not within two years. */
  until: number | null;
  via: Via[];
}

export interface Shift {
  userId: string;
  start: number;
  end: number;
  rotation: string | null;
  overrideId?: string;
  /** Which shift of its rotation (null for an override's own time): with `start`, names the shift stably. */
  shift: number | null;
}

/** How far ahead `until` is looked for. */
const UNTIL_HORIZON_MS = 731 * DAY_MS;

function viaKey(via: Via): string {
  return `${via.rotation ?? ''}\u0000${via.layer ?? ''}\u0000${via.overrideId ?? ''}`;
}

/** Applies the overrides in force (oldest first) to a segment's rotation answer. */
function applyOverrides(
  users: string[],
  holdings: Map<string, Holding>,
  overrides: Override[],
  removals: Via[]
): string[] {
  let result = users;
  // Who stands in for a replaced person, so that a newer replacement of them replaces the stand-in.
  const standIns = new Map<string, string>();
  for (const override of overrides) {
    const { addUserId: add, removeUserId: remove } = override;
    if (add && remove) {
      const target = result.includes(remove) ? remove : standIns.get(remove);
      if (target === undefined || !result.includes(target)) continue;
      const held = holdings.get(target)!;
      result = result.includes(add)
        ? result.filter((user) => user !== target)
        : result.map((user) => (user === target ? add : user));
      holdings.delete(target);
      holdings.set(add, { rotation: held.rotation, layer: held.layer, shift: held.shift, overrideId: override.id });
      standIns.set(remove, add);
    } else if (add) {
      if (result.includes(add)) continue;
      result = [...result, add];
      holdings.set(add, { rotation: null, layer: null, shift: null, overrideId: override.id });
    } else if (remove) {
      if (!result.includes(remove)) continue;
      const held = holdings.get(remove)!;
      result = result.filter((user) => user !== remove);
      holdings.delete(remove);
      removals.push({ rotation: held.rotation, layer: held.layer, overrideId: override.id });
    }
  }
  return result;
}

/** The answer over [start, end), given the rotation pieces and overrides in force throughout it. */
function answer(start: number, end: number, pieces: RotationPiece[], overrides: Override[]): Segment {
  let top = -Infinity;
  for (const piece of pieces) top = Math.max(top, piece.rotation.layer);
  const winners = pieces
    .filter((piece) => piece.rotation.layer === top)
    .sort((a, b) => a.rotation.index - b.rotation.index);
  const holdings = new Map<string, Holding>();
  const users: string[] = [];
  for (const piece of winners) {
    for (const user of piece.members) {
      if (holdings.has(user)) continue;
      holdings.set(user, { rotation: piece.rotation.name, layer: piece.rotation.layer, shift: piece.shift });
      users.push(user);
    }
  }
  const removals: Via[] = [];
  const final = overrides.length ? applyOverrides(users, holdings, overrides, removals) : users;
  const via: Via[] = [];
  const seen = new Set<string>();
  for (const entry of [
    ...final.map((user) => {
      const held = holdings.get(user)!;
      return held.overrideId === undefined
        ? { rotation: held.rotation, layer: held.layer }
        : { rotation: held.rotation, layer: held.layer, overrideId: held.overrideId };
    }),
    ...removals,
  ]) {
    const key = viaKey(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    via.push(entry);
  }
  return { start, end, users: final, holdings, via };
}

/**
 * The answers over [from, to), one segment for each stretch between consecutive boundaries (a
 * shift's start or end, an active window's edge, an override's start or end), in order.
 * Neighbouring segments may give the same answer: they differ in whose shift it is.
 */
function rawTimeline(compiled: CompiledSchedule, from: number, to: number, joinSamePeople = false): Segment[] {
  if (!(to > from)) return [];
  const pieces = compiled.rotations.flatMap((rotation) =>
    rotationPieces(rotation, compiled.timeZone, from, to, joinSamePeople)
  );
  const overrides = compiled.overrides.filter((override) => override.start < to && override.end > from);
  const boundaries = new Set<number>([from, to]);
  for (const piece of pieces) boundaries.add(piece.start).add(piece.end);
  for (const override of overrides) {
    if (override.start > from) boundaries.add(override.start);
    if (override.end < to) boundaries.add(override.end);
  }
  const edges = [...boundaries].sort((a, b) => a - b);
  pieces.sort((a, b) => a.start - b.start);
  const segments: Segment[] = [];
  let next = 0;
  let active: RotationPiece[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const start = edges[i]!;
    const end = edges[i + 1]!;
    active = active.filter((piece) => piece.end > start);
    while (next < pieces.length && pieces[next]!.start <= start) {
      if (pieces[next]!.end > start) active.push(pieces[next]!);
      next++;
    }
    const inForce = overrides.filter((override) => override.start <= start && override.end > start);
    segments.push(answer(start, end, active, inForce));
  }
  return segments;
}

function sameAnswer(a: Segment, b: Segment): boolean {
  return (
    a.users.length === b.users.length &&
    a.users.every((user, i) => user === b.users[i]) &&
    a.via.length === b.via.length &&
    a.via.every((via, i) => viaKey(via) === viaKey(b.via[i]!))
  );
}

/** The answers over [from, to), neighbours with the same answer (people and why) joined. */
export function timeline(schedule: Schedule, from: number, to: number): Segment[] {
  const merged: Segment[] = [];
  // Answers do not name shifts: a rotation of one person is one stretch, however many shifts.
  for (const segment of rawTimeline(compileSchedule(schedule), from, to, true)) {
    const last = merged[merged.length - 1];
    if (last && last.end === segment.start && sameAnswer(last, segment)) last.end = segment.end;
    else merged.push({ ...segment });
  }
  return merged;
}

/** Who is on call at `instant`, until when, and through which rotations and overrides. */
export function onCallAt(schedule: Schedule, instant: number): OnCallAnswer {
  for (let horizon = DAY_MS; ; horizon = Math.min(horizon * 4, UNTIL_HORIZON_MS)) {
    const segments = timeline(schedule, instant, instant + horizon);
    const first = segments[0]!;
    if (first.end < instant + horizon) return { users: first.users, until: first.end, via: first.via };
    if (horizon >= UNTIL_HORIZON_MS) return { users: first.users, until: null, via: first.via };
  }
}

/**
 * Everyone's time on call within [from, to), clipped to it, in order of start: one shift per
 * person and rotation shift (or override), cut where an active window or an override cuts it.
 */
export function shiftsBetween(schedule: Schedule, from: number, to: number): Shift[] {
  const shifts: Shift[] = [];
  const open = new Map<string, { key: string; shift: Shift }>();
  for (const segment of rawTimeline(compileSchedule(schedule), from, to)) {
    for (const [user, { key }] of open) {
      const holding = segment.holdings.get(user);
      if (!holding || holdingKey(holding) !== key || !segment.users.includes(user)) open.delete(user);
    }
    for (const user of segment.users) {
      const holding = segment.holdings.get(user)!;
      const key = holdingKey(holding);
      const current = open.get(user);
      if (current && current.key === key && current.shift.end === segment.start) {
        current.shift.end = segment.end;
        continue;
      }
      const shift: Shift = {
        userId: user,
        start: segment.start,
        end: segment.end,
        rotation: holding.rotation,
        shift: holding.shift,
        ...(holding.overrideId === undefined ? {} : { overrideId: holding.overrideId }),
      };
      shifts.push(shift);
      open.set(user, { key, shift });
    }
  }
  return shifts;
}

function holdingKey(holding: Holding): string {
  return `${holding.rotation ?? ''}\u0000${holding.shift ?? ''}\u0000${holding.overrideId ?? ''}`;
}

export interface NextOnCall {
  users: string[];
  /** When their shift starts. */
  start: number;
  rotation: string;
}

/**
 * Who is on call in the shift that follows the current one, in the rotation that puts someone on
 * call at `instant` (the first of the winning layer): "the next person" to escalate to. Shifts of
 * the same people are passed over; overrides in force when that shift starts apply to its people.
 * Null when no rotation covers the instant or nobody else is in the rotation.
 */
export function nextOnCall(schedule: Schedule, instant: number): NextOnCall | null {
  const compiled = compileSchedule(schedule);
  const [segment] = rawTimeline(compiled, instant, instant + 1);
  const holding = segment && [...segment.holdings.values()].find((held) => held.shift !== null);
  const rotation = holding && compiled.rotations.find((candidate) => candidate.name === holding.rotation);
  if (!rotation) return null;
  const k = shiftIndexAt(rotation, compiled.timeZone, instant);
  const current = new Set(shiftMembers(rotation, k));
  for (let step = 1; step <= rotation.members.length; step++) {
    const members = shiftMembers(rotation, k + step);
    if (members.every((member) => current.has(member))) continue;
    const start = shiftStart(rotation, compiled.timeZone, k + step);
    if (start >= rotation.endsAt) return null;
    const holdings = new Map<string, Holding>(
      members.map((member) => [member, { rotation: rotation.name, layer: rotation.layer, shift: k + step }])
    );
    const inForce = compiled.overrides.filter((override) => override.start <= start && override.end > start);
    const users = applyOverrides(members, holdings, inForce, []);
    return { users, start, rotation: rotation.name };
  }
  return null;
}

/**
 * Why a new override would change nothing (a sentence for the person who asked), or null when it
 * changes who is on call at some instant of its range.
 */
export function overrideChangesNothing(schedule: Schedule, candidate: Override): string | null {
  const without = timeline(schedule, candidate.start, candidate.end);
  const withIt = timeline(
    { ...schedule, overrides: [...schedule.overrides, candidate] },
    candidate.start,
    candidate.end
  );
  let i = 0;
  for (const segment of withIt) {
    while (without[i] && without[i]!.end <= segment.start) i++;
    for (let j = i; without[j] && without[j]!.start < segment.end; j++) {
      const before = without[j]!.users;
      if (before.length !== segment.users.length || before.some((user) => !segment.users.includes(user))) return null;
    }
  }
  const { addUserId: add, removeUserId: remove } = candidate;
  if (add && remove) {
    return `${remove} is not on call at any time between start and end (or ${add} already is whenever ${remove} is), so the replacement would change nothing`;
  }
  if (add) return `${add} is already on call for the whole time between start and end`;
  return `${remove} is not on call at any time between start and end`;
}
