/**
 * What an operator sees in the Temporal Web UI after each step of an alert's life, read through
 * the Temporal client exactly as the UI reads it: visibility queries over the custom search
 * attributes, the static summary, the current details (the SDK's built-in metadata query) and
 * the names of the activities in the history. Everything runs for real on the dev server.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { alertSearchAttributes } from '../../src/workflows/definitions';
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { waitFor } from '../helpers/wait';

/** What the Web UI's "Current details" and query list come from (temporal.api.sdk.v1.WorkflowMetadata). */
interface WorkflowMetadata {
  definition?: { type?: string; queryDefinitions?: Array<{ name: string }> };
  currentDetails?: string;
}

/** The query the SDK answers on every workflow; the Web UI sends it to show current details. */
const WORKFLOW_METADATA_QUERY = '__temporal_workflow_metadata';

let escalator: RunningTestEscalator;

beforeAll(async () => {
  escalator = await startTestEscalator();
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

/** Workflow ids that a Web UI search box query lists; visibility is eventually consistent, so callers poll. */
async function listWorkflowIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of escalator.temporal.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

async function waitUntilListed(query: string, workflowId: string): Promise<void> {
  await waitFor(`${workflowId} to be listed by ${query}`, async () =>
    (await listWorkflowIds(query)).includes(workflowId)
  );
}

async function currentDetails(handle: WorkflowHandle): Promise<string> {
  return (await handle.query<WorkflowMetadata>(WORKFLOW_METADATA_QUERY)).currentDetails ?? '';
}

async function waitForDetails(handle: WorkflowHandle, pattern: RegExp): Promise<string> {
  return waitFor(`current details matching ${pattern}`, async () => {
    const details = await currentDetails(handle);
    return pattern.test(details) ? details : undefined;
  });
}

/** The steps the history names: activity tasks, and local activities (the Web UI shows their markers by name). */
async function activityNames(handle: WorkflowHandle): Promise<Set<string>> {
  const history = await handle.fetchHistory();
  return new Set(
    (history.events ?? []).flatMap((event) => {
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name) return [name];
      const marker = event.markerRecordedEventAttributes;
      const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
      if (!data) return [];
      const { activity_type: localName } = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string };
      return localName ? [localName] : [];
    })
  );
}

function signedPress(action: 'ack' | 'close' | 'pass', workflowId: string, userId: string, userName: string) {
  return escalator.press({ action, workflowId, userId, userName });
}

test('open → acknowledged → closed: search attributes, summary and current details follow each step', async () => {
  const team = await escalator.createTeam({ prefix: 'ui', escalationTimeout: '5m' });
  const title = `Disk almost full on db-${randomUUID().slice(0, 4)}`;
  const accepted = await escalator.post(team.webhookPath, {
    title,
    severity: 'critical',
    source: 'grafana',
    key: 'disk-db-1',
  });
  expect(accepted.status).toBe(202);
  const workflowId = accepted.body.workflowId as string;
  expect(workflowId).toBe(`alert/${team.name}/disk-db-1`);
  const handle = escalator.temporal.workflow.getHandle(workflowId);

  // Open: the query an operator types in the Web UI lists it, with severity and source set.
  await waitUntilListed(`AlertState="open" AND AlertTeam="${team.name}"`, workflowId);
  await waitUntilListed(`AlertTeam="${team.name}" AND AlertSeverity="critical" AND AlertSource="grafana"`, workflowId);
  // Words of the title find it (AlertTitle is a Text attribute), in any order.
  await waitUntilListed(`AlertTitle="full disk" AND AlertTeam="${team.name}"`, workflowId);
  expect(await listWorkflowIds(`AlertTitle="memory" AND AlertTeam="${team.name}"`)).not.toContain(workflowId);
  const opened = await handle.describe();
  expect(opened.typedSearchAttributes.get(alertSearchAttributes.state)).toBe('open');
  expect(opened.typedSearchAttributes.get(alertSearchAttributes.team)).toBe(team.name);
  expect(opened.typedSearchAttributes.get(alertSearchAttributes.severity)).toBe('critical');
  expect(opened.typedSearchAttributes.get(alertSearchAttributes.source)).toBe('grafana');
  expect(opened.typedSearchAttributes.get(alertSearchAttributes.title)).toBe(title);
  expect(await opened.staticSummary()).toBe(title);
  expect(await waitForDetails(handle, /assigned to/)).toMatch(/open.*assigned to U0ALICE at \d\d:\d\d UTC/);
  // The state query is listed beside the current details, so the UI offers it.
  const metadata = await handle.query<WorkflowMetadata>(WORKFLOW_METADATA_QUERY);
  expect(metadata.definition?.queryDefinitions?.map((query) => query.name)).toContain('status');

  // Acknowledged: the open query no longer lists it; the acknowledged one does.
  expect(await signedPress('ack', workflowId, 'U0ALICE', 'alice')).toBe(200);
  expect(await waitForDetails(handle, /acked by/)).toMatch(/acknowledged.*acked by alice at \d\d:\d\d UTC/);
  await waitUntilListed(`AlertState="acknowledged" AND AlertTeam="${team.name}"`, workflowId);
  expect(await listWorkflowIds(`AlertState="open" AND AlertTeam="${team.name}"`)).not.toContain(workflowId);

  // Closed: the workflow completes with the state and details saying who closed it.
  expect(await signedPress('close', workflowId, 'U0ALICE', 'alice')).toBe(200);
  await waitUntilListed(`AlertState="closed" AND AlertTeam="${team.name}"`, workflowId);
  // The state is set before the final message update, so the run completes a moment later.
  const closed = await waitFor('the workflow to complete', async () => {
    const description = await handle.describe();
    return description.status.name === 'COMPLETED' ? description : undefined;
  });
  expect(closed.typedSearchAttributes.get(alertSearchAttributes.state)).toBe('closed');
  expect(await closed.staticSummary()).toBe(title);
  expect(await currentDetails(handle)).toMatch(/closed.*closed by alice/);

  // The history reads as what happened: activities are named for what they do.
  expect([...(await activityNames(handle))]).toEqual(
    expect.arrayContaining(['postAlertMessage', 'recordAlertEvent', 'updateAlertMessage'])
  );
});

test('nobody acknowledges: details say who it was escalated to, and the source resolving it shows as resolved', async () => {
  const team = await escalator.createTeam({
    prefix: 'ui',
    escalationTimeout: '2s',
    engineers: ['U0CAROL', 'U0DAVE'],
  });
  const accepted = await escalator.post(team.webhookPath, { title: 'API 5xx rate high', key: 'api-5xx' });
  expect(accepted.status).toBe(202);
  const workflowId = accepted.body.workflowId as string;
  const handle = escalator.temporal.workflow.getHandle(workflowId);

  expect(await waitForDetails(handle, /escalated to U0DAVE/)).toMatch(/open.*escalated to U0DAVE at \d\d:\d\d UTC/);
  expect(await waitForDetails(handle, /escalated to the whole team/)).toMatch(
    /^\*\*open\*\* · escalated to the whole team at /
  );
  // Still open while it escalates: nobody owns it yet.
  await waitUntilListed(`AlertState="open" AND AlertTeam="${team.name}"`, workflowId);
  expect((await handle.describe()).typedSearchAttributes.get(alertSearchAttributes.source)).toBe('generic');

  const resolved = await escalator.post(team.webhookPath, {
    title: 'API 5xx rate high',
    key: 'api-5xx',
    status: 'resolved',
  });
  expect(resolved.status).toBe(202);
  await waitUntilListed(`AlertState="resolved" AND AlertTeam="${team.name}"`, workflowId);
  expect(await currentDetails(handle)).toMatch(/resolved.*resolved by the source/);

  const activities = await activityNames(handle);
  expect([...activities]).toEqual(
    expect.arrayContaining(['postAlertMessage', 'notifyInThread', 'sendDirectMessage', 'updateAlertMessage'])
  );
});
