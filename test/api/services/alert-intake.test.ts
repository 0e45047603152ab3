import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { createAlertIntake, type AlertIntake } from '../../../src/api/services/alert-intake';
import { findEndpointByToken, type EndpointWithTeam } from '../../../src/api/services/endpoints';
import { OverloadedError } from '../../../src/intake/gate';
import { createIntakeGate } from '../../../src/intake/gate';
import { createLogger } from '../../../src/logger';
import type { IncomingAlert } from '../../../src/sources/types';
import { createTestGateway, registerTeam, type TestGateway } from '../../helpers/gateway';
import { occurrenceReportIds, reportsSignalled } from '../../helpers/workflow-history';

function firing(key: string, title = 'Disk almost full', firingKey?: string): IncomingAlert {
  return {
    status: 'firing',
    fingerprint: key,
    ...(firingKey ? { firingKey } : {}),
    content: { title, severity: 'error', source: 'alertmanager' },
  };
}

function resolved(key: string): IncomingAlert {
  return { ...firing(key), status: 'resolved' };
}

/** The signals the workflow got, once the journal has handed everything over. */
async function signalNames(gateway: TestGateway, workflowId: string): Promise<string[]> {
  await gateway.dispatched(workflowId);
  const history = await gateway.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)
    .filter((name): name is string => !!name);
}

/** The signal each report reached the workflow as, one per report (repeats that waited together share one signal). */
async function reportKinds(gateway: TestGateway, workflowId: string): Promise<string[]> {
  return (await reportsSignalled(gateway, workflowId)).map((report) => report.signal);
}

describe('alert intake (shared by the webhook, SNS and Alertmanager routes)', () => {
  let gateway: TestGateway;
  let intake: AlertIntake;
  let endpoint: EndpointWithTeam;

  beforeAll(async () => {
    gateway = createTestGateway();
    intake = createAlertIntake({
      config: gateway.config,
      db: gateway.db,
      log: createLogger({ level: 'silent' }),
      clock: Date.now,
      gate: createIntakeGate({ db: gateway.db, temporal: gateway.temporal, maxBacklog: 10_000 }),
    });
    const team = await registerTeam(gateway);
    endpoint = (await findEndpointByToken(gateway.db, team.token))!;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('a redelivered message (same delivery id) acts once and answers with the alert it opened', async () => {
    const key = `alarm-${randomUUID().slice(0, 8)}`;
    const messageId = randomUUID();

    const first = await intake.receiveAlert(endpoint, firing(key), messageId);
    const again = await intake.receiveAlert(endpoint, firing(key), messageId);

    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ alertId: first.alertId, workflowId: first.workflowId, duplicate: true });
    const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.alertId! } });
    expect(alert.occurrences).toBe(1);
    expect(await signalNames(gateway, first.workflowId!)).toEqual(['occurrence']);
  });

  test('a new delivery id for the same alert counts as a repeat', async () => {
    const key = `alarm-${randomUUID().slice(0, 8)}`;

    const first = await intake.receiveAlert(endpoint, firing(key), randomUUID());
    const second = await intake.receiveAlert(endpoint, firing(key), randomUUID());

    expect(second).toEqual({ alertId: first.alertId, workflowId: first.workflowId, duplicate: true });
    const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.alertId! } });
    expect(alert.occurrences).toBe(2);
  });

  test('the same message id on two endpoints (one SNS topic, two teams) reaches both', async () => {
    const otherTeam = await registerTeam(gateway);
    const otherEndpoint = (await findEndpointByToken(gateway.db, otherTeam.token))!;
    const messageId = randomUUID();

    const ours = await intake.receiveAlert(endpoint, firing('shared-alarm'), messageId);
    const theirs = await intake.receiveAlert(otherEndpoint, firing('shared-alarm'), messageId);

    expect(ours.duplicate).toBe(false);
    expect(theirs.duplicate).toBe(false);
    expect(theirs.alertId).not.toBe(ours.alertId);
  });

  test('reports of the same new alert arriving at once open one alert and count every report', async () => {
    const key = `burst-${randomUUID().slice(0, 8)}`;

    const results = await Promise.all(Array.from({ length: 5 }, () => intake.receiveAlert(endpoint, firing(key))));

    expect(new Set(results.map((result) => result.alertId)).size).toBe(1);
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: results[0]!.alertId! } });
    expect(alert.occurrences).toBe(5);
    // Repeats that waited in the journal together reach the workflow as one signal: each report once.
    const journal = await gateway.db.intakeEntry.findMany({
      where: { workflowId: results[0]!.workflowId! },
      orderBy: { id: 'asc' },
    });
    expect(journal.map((entry) => entry.kind)).toEqual(Array(5).fill('occurrence'));
    expect(await occurrenceReportIds(gateway, results[0]!.workflowId!)).toEqual(
      journal.map((entry) => Number(entry.id))
    );
    expect(new Set(await signalNames(gateway, results[0]!.workflowId!))).toEqual(new Set(['occurrence']));
  });

  test('a report marked as ignored records nothing and starts no workflow', async () => {
    const key = `insufficient-${randomUUID().slice(0, 8)}`;

    const result = await intake.receiveAlert(endpoint, { ...firing(key), ignoredBecause: 'INSUFFICIENT_DATA' });

    expect(result).toEqual({ alertId: null, workflowId: null, duplicate: false, ignored: 'INSUFFICIENT_DATA' });
    expect(await gateway.db.alert.count({ where: { fingerprint: key } })).toBe(0);
  });

  test('long fingerprints such as ARNs keep the workflow id readable and carry the fields as details', async () => {
    const arn = `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${'very-long-alarm-name-'.repeat(5)}${randomUUID()}`;
    const incoming = firing(arn);
    incoming.content.fields = [{ label: 'Region', value: 'eu-west-1' }];

    const result = await intake.receiveAlert(endpoint, incoming);

    expect(result.workflowId!.startsWith(`alert/${endpoint.team.name}/`)).toBe(true);
    const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: result.alertId! } });
    expect(alert.fingerprint).toBe(arn);
    expect(alert.details).toEqual([{ label: 'Region', value: 'eu-west-1' }]);
    await gateway.dispatched(result.workflowId!);
    const history = await gateway.temporal.workflow.getHandle(result.workflowId!).fetchHistory();
    const input = defaultPayloadConverter.fromPayload<{ fingerprint: string }>(
      history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!
    );
    expect(input.fingerprint).toBe(arn);
  });

  describe('an alert is one firing of a problem', () => {
    test('a re-send of the same firing refreshes last seen, is not counted and does not signal', async () => {
      const key = `disk-${randomUUID().slice(0, 8)}`;

      const first = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z'));
      const again = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z'));

      expect(again).toEqual({ alertId: first.alertId, workflowId: first.workflowId, duplicate: true });
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.alertId! } });
      expect(alert.occurrences).toBe(1);
      expect(alert.lastSeenAt.getTime()).toBeGreaterThanOrEqual(alert.firstSeenAt.getTime());
      expect(await signalNames(gateway, first.workflowId!)).toEqual(['occurrence']);
    });

    test('a new firing of a live alert is counted', async () => {
      const key = `disk-${randomUUID().slice(0, 8)}`;

      const first = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z'));
      const second = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T11:00:00Z'));

      expect(second).toEqual({ alertId: first.alertId, workflowId: first.workflowId, duplicate: true });
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.alertId! } });
      expect(alert.occurrences).toBe(2);
      expect(await reportKinds(gateway, first.workflowId!)).toEqual(['occurrence', 'occurrence']);
    });

    test('after a Close, re-sends of that firing stay quiet and are written to the timeline once; a new firing opens a new alert', async () => {
      const key = `disk-${randomUUID().slice(0, 8)}`;
      const first = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z'));
      await gateway.dispatched(first.workflowId!);
      // What the workflow writes when a person presses Close.
      await gateway.db.alert.update({
        where: { id: first.alertId! },
        data: { state: 'closed', openFingerprint: null, endedBy: 'alice', endedAt: new Date() },
      });

      const resends = [
        await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z')),
        await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z')),
      ];
      expect(resends).toEqual([
        { alertId: first.alertId, workflowId: first.workflowId, duplicate: true },
        { alertId: first.alertId, workflowId: first.workflowId, duplicate: true },
      ]);
      const timeline = await gateway.db.alertEvent.findMany({ where: { alertId: first.alertId!, type: 'absorbed' } });
      expect(timeline).toHaveLength(1);
      expect(await gateway.db.alert.count({ where: { fingerprint: key } })).toBe(1);
      expect(await signalNames(gateway, first.workflowId!)).toEqual(['occurrence']);

      const newFiring = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T12:00:00Z'));
      expect(newFiring.duplicate).toBe(false);
      expect(newFiring.alertId).not.toBe(first.alertId);
    });

    test('a re-send after a Close and a new firing sent at once: the re-send stays quiet, the new firing opens one alert and its re-send repeats it', async () => {
      const key = `flap-${randomUUID().slice(0, 8)}`;
      const first = await intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z'));
      await gateway.db.alert.update({
        where: { id: first.alertId! },
        data: { state: 'closed', openFingerprint: null, endedBy: 'alice', endedAt: new Date() },
      });

      const [resend, opened, again] = await Promise.all([
        intake.receiveAlert(endpoint, firing(key, 'Disk full', '2026-12-01T10:00:00Z')),
        intake.receiveAlert(endpoint, firing(key, 'Disk full again', '2026-12-01T12:00:00Z')),
        intake.receiveAlert(endpoint, firing(key, 'Disk full again', '2026-12-01T12:00:00Z')),
      ]);

      expect(resend).toEqual({ alertId: first.alertId, workflowId: first.workflowId, duplicate: true });
      expect(opened.duplicate).toBe(false);
      expect(opened.alertId).not.toBe(first.alertId);
      expect(again).toEqual({ alertId: opened.alertId, workflowId: opened.workflowId, duplicate: true });
      const reopened = await gateway.db.alert.findUniqueOrThrow({ where: { id: opened.alertId! } });
      expect(reopened).toMatchObject({
        title: 'Disk full again',
        state: 'open',
        occurrences: 1,
        assignee: endpoint.team.engineers[0],
      });
      const timeline = await gateway.db.alertEvent.findMany({ where: { alertId: first.alertId!, type: 'absorbed' } });
      expect(timeline).toHaveLength(1);
    });

    test('a group redelivered whole (an aborted Alertmanager notification) counts each firing once', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `group-${randomUUID().slice(0, 6)}-${i}`);
      const group = keys.map((key) => firing(key, `Alert ${key}`, '2026-12-01T10:00:00Z'));

      const first = await intake.receiveAlerts(endpoint, group);
      const redelivered = await intake.receiveAlerts(endpoint, group);

      expect(first.every((result) => !result.duplicate)).toBe(true);
      expect(redelivered.map((result) => result.alertId)).toEqual(first.map((result) => result.alertId));
      expect(redelivered.every((result) => result.duplicate)).toBe(true);
      const alerts = await gateway.db.alert.findMany({ where: { fingerprint: { in: keys } } });
      expect(alerts.map((alert) => alert.occurrences)).toEqual(Array(keys.length).fill(1));
    });

    test('a firing and its resolution back to back reach the workflow in that order', async () => {
      const key = `flap-${randomUUID().slice(0, 8)}`;

      const opened = await intake.receiveAlert(endpoint, firing(key));
      const closed = await intake.receiveAlert(endpoint, resolved(key));

      expect(closed.alertId).toBe(opened.alertId);
      expect(await signalNames(gateway, opened.workflowId!)).toEqual(['occurrence', 'resolution']);
    });

    test('repeats sent at once with a resolution right behind them reach the workflow in order, each report once', async () => {
      const key = `storm-${randomUUID().slice(0, 8)}`;
      const opened = await intake.receiveAlert(endpoint, firing(key));

      const repeats = await Promise.all(
        Array.from({ length: 12 }, (_, i) => intake.receiveAlert(endpoint, firing(key, `Disk full (${i})`)))
      );
      const closed = await intake.receiveAlert(endpoint, resolved(key));

      expect(repeats.every((repeat) => repeat.alertId === opened.alertId && repeat.duplicate)).toBe(true);
      expect(closed.alertId).toBe(opened.alertId);
      const journal = await gateway.db.intakeEntry.findMany({
        where: { workflowId: opened.workflowId! },
        orderBy: { id: 'asc' },
      });
      expect(journal.map((entry) => entry.kind)).toEqual([...Array(13).fill('occurrence'), 'resolution']);
      const reports = await reportsSignalled(gateway, opened.workflowId!);
      expect(reports).toEqual(journal.map((entry) => ({ signal: entry.kind, reportId: Number(entry.id) })));
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: opened.alertId! } });
      expect(alert).toMatchObject({ occurrences: 13, state: 'resolved' });
    });

    test('reports of one alert taken together are each answered for themselves: a redelivery among them counts once', async () => {
      const key = `sns-${randomUUID().slice(0, 8)}`;
      const opened = await intake.receiveAlert(endpoint, firing(key), randomUUID());
      const messageIds = [randomUUID(), randomUUID(), randomUUID()];

      const results = await Promise.all(
        [0, 0, 1, 2, 2, 2].map((i) => intake.receiveAlert(endpoint, firing(key), messageIds[i]))
      );

      expect(results.every((result) => result.alertId === opened.alertId && result.duplicate)).toBe(true);
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: opened.alertId! } });
      expect(alert.occurrences).toBe(4);
      expect(await occurrenceReportIds(gateway, opened.workflowId!)).toHaveLength(4);
      const deliveries = await gateway.db.delivery.findMany({
        where: { id: { in: messageIds.map((id) => `${endpoint.id}/${id}`) } },
      });
      expect(deliveries.map((delivery) => delivery.alertId)).toEqual(Array(3).fill(opened.alertId));
    });
  });

  test('an entry found again after its workflow ran and ended (a dispatcher killed before its mark) starts no second run', async () => {
    const key = `resent-entry-${randomUUID().slice(0, 8)}`;
    const opened = await intake.receiveAlert(endpoint, firing(key));
    await gateway.dispatched(opened.workflowId!);
    const handle = gateway.temporal.workflow.getHandle(opened.workflowId!);
    const { runId } = await handle.describe();
    // The run did its work (it wrote to the timeline) and ended.
    await gateway.db.alertEvent.create({
      data: { alertId: opened.alertId!, key: `workflow/${randomUUID()}`, type: 'posted', message: 'Posted' },
    });
    await handle.terminate('ended, for this test');

    // The dispatcher died between the signal and its mark: the entry waits again.
    await gateway.db
      .$executeRaw`UPDATE intake_journal SET dispatched_at = NULL WHERE workflow_id = ${opened.workflowId}`;
    await gateway.dispatched(opened.workflowId!);

    const now = await handle.describe();
    expect({ runId: now.runId, status: now.status.name }).toEqual({ runId, status: 'TERMINATED' });
    const [entry] = await gateway.db.intakeEntry.findMany({ where: { workflowId: opened.workflowId! } });
    expect(entry?.attempts).toBe(2);
  });

  test('while the journal holds more than the backlog allows, reports are refused before anything is written', async () => {
    const overloaded = createAlertIntake({
      config: gateway.config,
      db: gateway.db,
      log: createLogger({ level: 'silent' }),
      clock: Date.now,
      gate: createIntakeGate({ db: gateway.db, temporal: gateway.temporal, maxBacklog: 0 }),
    });
    // A waiting entry in a partition no dispatcher reads, so that it stays waiting for this test.
    const waiting = await gateway.db.intakeEntry.create({
      data: { workflowId: `alert/none/${randomUUID()}`, partition: 999, kind: 'occurrence', payload: {} },
    });
    const key = `refused-${randomUUID().slice(0, 8)}`;
    try {
      await expect(overloaded.receiveAlert(endpoint, firing(key))).rejects.toBeInstanceOf(OverloadedError);
      expect(await gateway.db.alert.count({ where: { fingerprint: key } })).toBe(0);
    } finally {
      await gateway.db.intakeEntry.delete({ where: { id: waiting.id } });
    }
  });

  test('the backlog is counted in alerts: a storm of repeats of one alert waiting does not refuse reports, as many alerts waiting do', async () => {
    const intakeWithBacklog = () =>
      createAlertIntake({
        config: gateway.config,
        db: gateway.db,
        log: createLogger({ level: 'silent' }),
        clock: Date.now,
        gate: createIntakeGate({ db: gateway.db, temporal: gateway.temporal, maxBacklog: 1_000 }),
      });
    // Waiting entries in a partition no dispatcher reads, so that they stay waiting for this test.
    const waiting = (workflowId: (i: number) => string) =>
      Array.from({ length: 2_000 }, (_, i) => ({
        workflowId: workflowId(i),
        partition: 999,
        kind: 'occurrence',
        payload: {},
      }));
    const stormOfOne = `alert/none/${randomUUID()}`;
    const manyAlerts = `alert/none/${randomUUID()}`;
    try {
      await gateway.db.intakeEntry.createMany({ data: waiting(() => stormOfOne) });
      const taken = await intakeWithBacklog().receiveAlert(endpoint, firing(`taken-${randomUUID().slice(0, 8)}`));
      expect(taken.duplicate).toBe(false);

      await gateway.db.intakeEntry.createMany({ data: waiting((i) => `${manyAlerts}/${i}`) });
      const key = `refused-${randomUUID().slice(0, 8)}`;
      await expect(intakeWithBacklog().receiveAlert(endpoint, firing(key))).rejects.toBeInstanceOf(OverloadedError);
      expect(await gateway.db.alert.count({ where: { fingerprint: key } })).toBe(0);
    } finally {
      await gateway.db.intakeEntry.deleteMany({ where: { workflowId: { startsWith: stormOfOne } } });
      await gateway.db.intakeEntry.deleteMany({ where: { workflowId: { startsWith: manyAlerts } } });
    }
  });
});
