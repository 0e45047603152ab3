/**
 * `/escalator schedule`: the Slack modal that sets up or edits the common case, one daily or weekly
 * rotation (members, handoff day and time, time zone). Pure: the view to open, and what a
 * submission comes to (a rotation, or the errors Slack shows beside the fields).
 */
import type { ModalView, PlainTextOption } from '@slack/web-api';
import type { Rotation } from '../oncall/schedule';
import { isIanaTimeZone } from '../oncall/zone-clock';

export const SCHEDULE_MODAL_CALLBACK = 'escalator_schedule';
export const MAX_SCHEDULE_MEMBERS = 20;

const BLOCK = { members: 'members', kind: 'kind', day: 'day', time: 'time', zone: 'zone' } as const;
const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
/** 2026-01-05 is a Monday: a handoff on day `i` of the week is on 2026-01-0(5 + i). */
const A_MONDAY = 5;

/** What the form shows first: the team's current simple rotation, or a weekly Monday 09:00 one. */
export interface ScheduleFormValues {
  members: string[];
  kind: 'daily' | 'weekly';
  day: (typeof DAYS)[number][0];
  time: string;
  timeZone: string;
}

/** Where the submission goes: carried through Slack in the view's private_metadata. */
export interface ScheduleFormTarget {
  teamId: string;
  channelId: string;
}

const option = (value: string, text: string): PlainTextOption => ({ text: { type: 'plain_text', text }, value });

export function scheduleModal(target: ScheduleFormTarget, initial: ScheduleFormValues, teamName: string): ModalView {
  const kinds = [option('weekly', 'Weekly'), option('daily', 'Daily')];
  const days = DAYS.map(([value, text]) => option(value, text));
  return {
    type: 'modal',
    callback_id: SCHEDULE_MODAL_CALLBACK,
    private_metadata: JSON.stringify(target),
    title: { type: 'plain_text', text: 'On-call schedule' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Who is on call for *${teamName.replace(/[*_~`<>&]/g, '')}*: one rotation, handed over at the same local time.`,
        },
      },
      {
        type: 'input',
        block_id: BLOCK.members,
        label: { type: 'plain_text', text: 'People, in order' },
        element: {
          type: 'multi_users_select',
          action_id: BLOCK.members,
          max_selected_items: MAX_SCHEDULE_MEMBERS,
          ...(initial.members.length > 0 ? { initial_users: initial.members } : {}),
        },
      },
      {
        type: 'input',
        block_id: BLOCK.kind,
        label: { type: 'plain_text', text: 'Shifts' },
        element: {
          type: 'static_select',
          action_id: BLOCK.kind,
          options: kinds,
          initial_option: kinds.find((kind) => kind.value === initial.kind),
        },
      },
      {
        type: 'input',
        block_id: BLOCK.day,
        label: { type: 'plain_text', text: 'Handoff day (weekly shifts)' },
        element: {
          type: 'static_select',
          action_id: BLOCK.day,
          options: days,
          initial_option: days.find((day) => day.value === initial.day),
        },
      },
      {
        type: 'input',
        block_id: BLOCK.time,
        label: { type: 'plain_text', text: 'Handoff time' },
        element: { type: 'timepicker', action_id: BLOCK.time, initial_time: initial.time },
      },
      {
        type: 'input',
        block_id: BLOCK.zone,
        label: { type: 'plain_text', text: 'Time zone (IANA, e.g. Europe/Berlin)' },
        element: { type: 'plain_text_input', action_id: BLOCK.zone, initial_value: initial.timeZone },
      },
    ],
  };
}

/** The form as the team's schedule holds it, when that schedule is one daily or weekly rotation. */
export function formValuesOf(schedule: { timeZone: string; rotations: Rotation[] }): ScheduleFormValues | null {
  const [rotation, ...others] = schedule.rotations;
  if (!rotation || others.length > 0 || (rotation.kind !== 'daily' && rotation.kind !== 'weekly')) return null;
  if ((rotation.every ?? 1) !== 1 || rotation.activeWindows?.length || rotation.startsAt || rotation.endsAt)
    return null;
  if (rotation.members.some((member) => Array.isArray(member))) return null;
  const handoff = new Date(`${rotation.handoff}Z`);
  return {
    members: rotation.members as string[],
    kind: rotation.kind,
    day: DAYS[(handoff.getUTCDay() + 6) % 7]![0],
    time: rotation.handoff.slice(11, 16),
    timeZone: schedule.timeZone,
  };
}

type StateValues = Record<
  string,
  Record<
    string,
    {
      selected_users?: string[];
      selected_option?: { value?: string } | null;
      selected_time?: string | null;
      value?: string | null;
    }
  >
>;

export type ScheduleSubmission =
  | { ok: true; timeZone: string; rotation: Rotation; values: ScheduleFormValues }
  | { ok: false; errors: Record<string, string> };

/** Reads a submitted form: a rotation, or an error per field as Slack shows them (`response_action: errors`). */
export function readScheduleSubmission(values: StateValues): ScheduleSubmission {
  const field = (block: string) => values[block]?.[block];
  const members = [...new Set(field(BLOCK.members)?.selected_users ?? [])];
  const kind = field(BLOCK.kind)?.selected_option?.value;
  const day = field(BLOCK.day)?.selected_option?.value ?? 'mon';
  const time = field(BLOCK.time)?.selected_time ?? '';
  const timeZone = (field(BLOCK.zone)?.value ?? '').trim();
  const errors: Record<string, string> = {};
  if (members.length === 0) errors[BLOCK.members] = 'Choose at least one person.';
  if (members.length > MAX_SCHEDULE_MEMBERS) errors[BLOCK.members] = `At most ${MAX_SCHEDULE_MEMBERS} people.`;
  if (kind !== 'daily' && kind !== 'weekly') errors[BLOCK.kind] = 'Choose daily or weekly.';
  const dayIndex = DAYS.findIndex(([value]) => value === day);
  if (dayIndex < 0) errors[BLOCK.day] = 'Choose a day.';
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) errors[BLOCK.time] = 'Choose a time.';
  if (!isIanaTimeZone(timeZone))
    errors[BLOCK.zone] =
      `"${timeZone.slice(0, 60)}" is not a time zone: use a name such as Europe/Berlin or America/New_York.`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const date = `2026-01-${String(A_MONDAY + (kind === 'weekly' ? dayIndex : 0)).padStart(2, '0')}`;
  const rotation: Rotation = { name: 'Primary', kind: kind as 'daily' | 'weekly', handoff: `${date}T${time}`, members };
  return {
    ok: true,
    timeZone,
    rotation,
    values: { members, kind: kind as 'daily' | 'weekly', day: DAYS[dayIndex]![0], time, timeZone },
  };
}

/** "weekly, handed over Monday 09:00 (Europe/Berlin)". */
export function describeScheduleForm(values: ScheduleFormValues): string {
  const dayName = DAYS.find(([value]) => value === values.day)?.[1] ?? values.day;
  return values.kind === 'weekly'
    ? `weekly, handed over ${dayName} ${values.time} (${values.timeZone})`
    : `daily, handed over at ${values.time} (${values.timeZone})`;
}
