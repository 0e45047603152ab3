/**
 * One rotation's shifts: shift k starts at the local wall-clock time `handoff + k × period` (k of
 * any sign), resolved to an instant by the zone clock's rule, and ends where shift k + 1 starts;
 * it belongs to `members[k mod n]`. Because the resolution never goes backwards in time, shifts
 * meet end to end: no gaps, no overlaps (a shift whose start and end fall in the same spring-forward
 * gap is empty and is left out).
 */
import type { CompiledRotation, CompiledWindow } from './schedule';
import { DAY_MS, instantOf, localOf, localWeekday, MINUTE_MS, startOfLocalDay } from './zone-clock';

/** A stretch of time a rotation covers with one shift's members. */
export interface RotationPiece {
  rotation: CompiledRotation;
  /** Which shift (0 is the one that starts at `handoff`). */
  shift: number;
  start: number;
  end: number;
  members: string[];
}

/** The instant shift `k` of `rotation` starts. */
export function shiftStart(rotation: CompiledRotation, timeZone: string, k: number): number {
  return instantOf(timeZone, rotation.handoffLocal + k * rotation.periodLocal);
}

/** The members of shift `k` (a group is several). */
export function shiftMembers(rotation: CompiledRotation, k: number): string[] {
  const n = rotation.members.length;
  return rotation.members[((k % n) + n) % n] ?? [];
}

/** The shift that `instant` falls in: shiftStart(k) <= instant < shiftStart(k + 1). */
export function shiftIndexAt(rotation: CompiledRotation, timeZone: string, instant: number): number {
  let k = Math.floor((localOf(timeZone, instant) - rotation.handoffLocal) / rotation.periodLocal);
  while (shiftStart(rotation, timeZone, k) > instant) k--;
  while (shiftStart(rotation, timeZone, k + 1) <= instant) k++;
  return k;
}

/** The active windows' stretches of [from, to) as instants, in order and merged where they touch. */
export function windowIntervals(
  windows: CompiledWindow[],
  timeZone: string,
  from: number,
  to: number
): Array<[number, number]> {
  const intervals: Array<[number, number]> = [];
  // A window opens on one day and may close on the next: start a day early.
  const firstDay = startOfLocalDay(localOf(timeZone, from)) - DAY_MS;
  const lastDay = startOfLocalDay(localOf(timeZone, to));
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    const weekday = localWeekday(day);
    for (const window of windows) {
      if (window.days && !window.days[weekday]) continue;
      const start = Math.max(from, instantOf(timeZone, day + window.from * MINUTE_MS));
      const end = Math.min(to, instantOf(timeZone, day + window.to * MINUTE_MS));
      if (end > start) intervals.push([start, end]);
    }
  }
  intervals.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const interval of intervals) {
    const last = merged[merged.length - 1];
    if (last && interval[0] <= last[1]) last[1] = Math.max(last[1], interval[1]);
    else merged.push([...interval]);
  }
  return merged;
}

/** Whether every shift of the rotation has the same people (a rotation of one person or group). */
function samePeopleEveryShift(rotation: CompiledRotation): boolean {
  const [first, ...rest] = rotation.members.map((members) => [...members].sort().join(' '));
  return rest.every((members) => members === first);
}

/**
 * What `rotation` covers within [from, to): its shifts, cut to its start and end and to its
 * active windows, in order. A rotation without members covers nothing. With `joinSamePeople`, a
 * rotation whose shifts all have the same people is one piece (named by its first shift): for
 * answers that do not name shifts, which then need not walk years of identical shifts.
 */
export function rotationPieces(
  rotation: CompiledRotation,
  timeZone: string,
  from: number,
  to: number,
  joinSamePeople = false
): RotationPiece[] {
  const lo = Math.max(from, rotation.startsAt);
  const hi = Math.min(to, rotation.endsAt);
  if (lo >= hi || rotation.members.length === 0) return [];
  const shifts: RotationPiece[] = [];
  let k = shiftIndexAt(rotation, timeZone, lo);
  if (joinSamePeople && samePeopleEveryShift(rotation)) {
    shifts.push({ rotation, shift: k, start: lo, end: hi, members: shiftMembers(rotation, k) });
  } else {
    for (let start = shiftStart(rotation, timeZone, k); ; k++) {
      const end = shiftStart(rotation, timeZone, k + 1);
      const pieceStart = Math.max(start, lo);
      const pieceEnd = Math.min(end, hi);
      if (pieceEnd > pieceStart) {
        shifts.push({ rotation, shift: k, start: pieceStart, end: pieceEnd, members: shiftMembers(rotation, k) });
      }
      if (end >= hi) break;
      start = end;
    }
  }
  if (!rotation.windows) return shifts;
  const windows = windowIntervals(rotation.windows, timeZone, lo, hi);
  const pieces: RotationPiece[] = [];
  let w = 0;
  for (const shift of shifts) {
    while (w < windows.length && windows[w]![1] <= shift.start) w++;
    for (let i = w; i < windows.length && windows[i]![0] < shift.end; i++) {
      const start = Math.max(shift.start, windows[i]![0]);
      const end = Math.min(shift.end, windows[i]![1]);
      if (end > start) pieces.push({ ...shift, start, end });
    }
  }
  return pieces;
}
