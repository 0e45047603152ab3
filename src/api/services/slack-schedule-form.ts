/**
 * The schedule modal of `/escalator schedule`: opened for the person who typed the command, and
 * its submission (a `view_submission` interaction) turned into the team's schedule. Only members
 * of the team's channel may save it, as with every other team change from Slack.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { tellHandoffWatcher } from '../../oncall/handoff-watch';
import type { Logger } from '../../logger';
import { loadSchedule } from '../../oncall/store';
import { userName } from '../../slack/mrkdwn';
import {
  describeScheduleForm,
  formValuesOf,
  readScheduleSubmission,
  scheduleModal,
  SCHEDULE_MODAL_CALLBACK,
  type ScheduleFormTarget,
} from '../../slack/schedule-modal';
import { createSchedule, replaceSchedule } from './schedules';
import { findChannelTeam, type ChannelTeam } from './slack-team-setup';
import type { Workspace, Workspaces } from './slack-workspaces';

export const COMPLEX_SCHEDULE =
  'This team’s schedule has more than one daily or weekly rotation (layers, windows or groups): the form cannot show it. Change it through the API (`PUT /api/schedules/:id`).';

/** Opens the form for the team's schedule; a sentence instead when the form cannot show that schedule. */
export async function openScheduleForm(
  db: Database,
  { workspace, team }: { workspace: Workspace; team: ChannelTeam },
  { triggerId, channelId }: { triggerId: string; channelId: string }
): Promise<string | undefined> {
  const schedule = team.scheduleId ? await loadSchedule(db, { id: team.scheduleId }, { none: true }) : null;
  const values = schedule
    ? formValuesOf(schedule)
    : { members: team.engineers, kind: 'weekly' as const, day: 'mon' as const, time: '09:00', timeZone: 'UTC' };
  if (!values) return COMPLEX_SCHEDULE;
  const target: ScheduleFormTarget = { teamId: team.id, channelId };
  await workspace.slack.openView(triggerId, scheduleModal(target, values, team.name));
  return undefined;
}

/** A view_submission as far as the form reads it. */
export interface ViewSubmission {
  slackTeamId: string;
  userId: string;
  callbackId: string;
  privateMetadata: string;
  values: Parameters<typeof readScheduleSubmission>[0];
}

/**
 * The answer Slack shows (errors beside the fields, or nothing: the modal closes), and the
 * confirmation to post in the channel after that answer.
 */
export interface SubmissionOutcome {
  response?: { response_action: 'errors'; errors: Record<string, string> };
  after?: () => Promise<void>;
}

const FIRST_FIELD = 'members';

function parseTarget(text: string): ScheduleFormTarget | null {
  try {
    const parsed = JSON.parse(text) as Partial<ScheduleFormTarget>;
    return typeof parsed.teamId === 'string' && typeof parsed.channelId === 'string'
      ? { teamId: parsed.teamId, channelId: parsed.channelId }
      : null;
  } catch {
    return null;
  }
}

export async function submitScheduleForm(
  deps: { db: Database; workspaces: Workspaces; publicUrl: string; log: Logger; temporal?: Client; taskQueue?: string },
  submission: ViewSubmission
): Promise<SubmissionOutcome> {
  if (submission.callbackId !== SCHEDULE_MODAL_CALLBACK) return {};
  const { db, publicUrl, log } = deps;
  const refuse = (text: string): SubmissionOutcome => ({
    response: { response_action: 'errors', errors: { [FIRST_FIELD]: text } },
  });
  const target = parseTarget(submission.privateMetadata);
  const workspace = await deps.workspaces.find(submission.slackTeamId);
  // The form names the team it was opened for; it must still be that channel's team in this workspace.
  const team =
    target && workspace
      ? await findChannelTeam(db, { installationId: workspace.installationId, channelId: target.channelId })
      : null;
  if (!target || !workspace || !team || team.id !== target.teamId) {
    return refuse('This channel has no Escalator team any more: nothing was saved.');
  }
  if (!(await workspace.slack.isChannelMember(target.channelId, submission.userId))) {
    return refuse('Only members of this channel can change its schedule.');
  }
  const read = readScheduleSubmission(submission.values);
  if (!read.ok) return { response: { response_action: 'errors', errors: read.errors } };

  const existing = team.scheduleId ? await loadSchedule(db, { id: team.scheduleId }, { none: true }) : null;
  if (existing && !formValuesOf(existing)) return refuse(COMPLEX_SCHEDULE);
  const input = { timeZone: read.timeZone, rotations: [read.rotation] };
  const saved = existing
    ? await replaceSchedule(db, publicUrl, existing.id, {
        ...input,
        name: existing.name,
        teamId: existing.teamId ?? undefined,
      })
    : await createSchedule(db, publicUrl, { ...input, name: `${team.name} on call`, teamId: team.id });
  await db.teamAuditEntry.create({
    data: {
      teamId: team.id,
      actor: submission.userId,
      action: 'schedule-set',
      detail: { scheduleId: saved?.id ?? null, rotation: read.rotation, timeZone: read.timeZone, via: 'modal' },
    },
  });
  log.info({ team: team.name, scheduleId: saved?.id }, 'on-call schedule set from Slack');
  if (saved && deps.temporal && deps.taskQueue) {
    // The rotation changed: the handoff watcher (if notices or a user group are on) looks again.
    const watched = saved.handoffNotices || saved.slackUsergroupId !== null;
    await tellHandoffWatcher(deps.temporal, { scheduleId: saved.id, taskQueue: deps.taskQueue, watched }).catch(
      (error: unknown) => log.warn({ err: error, scheduleId: saved.id }, 'handoff watcher not told of the change')
    );
  }
  const text =
    `:calendar: ${userName(submission.userId)} set the on-call schedule: ${describeScheduleForm(read.values)}, ` +
    `${read.values.members.map(userName).join(' → ')}. Who is on call now: \`/escalator oncall\`.`;
  return { after: () => workspace.slack.postMessage({ channel: target.channelId, text }) };
}
