import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { createAlertIntake, type AlertIntake } from '../../../src/api/services/alert-intake';
import { findEndpointByToken, type EndpointWithTeam } from '../../../src/api/services/endpoints';
import { createLogger } from '../../../src/logger';
import type { IncomingAlert } from '../../../src/sources/types';
import { createTestGateway, registerTeam, type TestGateway } from '../../helpers/gateway';

function firing(key: string, title = 'Disk almost full'): IncomingAlert {
  return { status: 'firing', fingerprint: key, content: { title, severity: 'error', source: 'cloudwatch' } };
}

async function signalNames(gateway: TestGateway, workflowId: string): Promise<string[]> {
  const history = await gateway.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)
    .filter((name): name is string => !!name);
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
      temporal: gateway.temporal,
      log: createLogger({ level: 'silent' }),
      clock: Date.now,
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
    expect(await signalNames(gateway, results[0]!.workflowId!)).toEqual(Array(5).fill('occurrence'));
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
    const history = await gateway.temporal.workflow.getHandle(result.workflowId!).fetchHistory();
    const input = defaultPayloadConverter.fromPayload<{ fingerprint: string }>(
      history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!
    );
    expect(input.fingerprint).toBe(arn);
  });
});
