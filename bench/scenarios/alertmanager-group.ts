/** One Alertmanager group as large as an outage makes them, and the CPU the open loop and the group cost. */
import { cpuSplit, record, SCALE, TARGETS, type BenchContext, type CpuByPart } from '../harness';

/** `cpuBefore`, `partsBefore`: the readings taken as the open loop began, so that its alerts and the group's count together. */
export async function measureAlertmanagerGroup(
  { newTeam, allDispatched, cpuByPart, cpuSecondsOfTree }: BenchContext,
  { cpuBefore, partsBefore }: { cpuBefore: number; partsBefore: CpuByPart }
): Promise<void> {
  const groupTeam = await newTeam('group');
  const startsAt = new Date().toISOString();
  const group = {
    version: '4',
    groupKey: '{}:{alertname="InstanceDown"}',
    status: 'firing',
    receiver: 'escalator',
    groupLabels: { alertname: 'InstanceDown' },
    commonLabels: { alertname: 'InstanceDown', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: Array.from({ length: SCALE.groupSize }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'InstanceDown', instance: `host-${i}:9100`, severity: 'critical' },
      annotations: { summary: `host-${i} is down` },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `fp${i.toString(16).padStart(14, '0')}`,
    })),
  };
  const groupStarted = performance.now();
  const groupAnswer = await fetch(`${groupTeam.url}/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(group),
  });
  await groupAnswer.arrayBuffer();
  const groupMs = Math.round(performance.now() - groupStarted);
  record({
    name: `one Alertmanager group of ${SCALE.groupSize} alerts answered`,
    value: groupMs,
    unit: 'ms',
    target: `2xx ≤ ${TARGETS.groupOf500Ms} ms`,
    ok: groupAnswer.status === 202 && groupMs <= TARGETS.groupOf500Ms,
    mustHold: groupAnswer.status === 202,
    note: `status ${groupAnswer.status}`,
  });
  await allDispatched();
  const cpuUsed = cpuSecondsOfTree() - cpuBefore;
  record({
    name: 'CPU for the open-loop alerts and the group (post each), all processes',
    value: Math.round((cpuUsed * 1000) / (SCALE.openLoopCount + SCALE.groupSize)),
    unit: 'ms/alert',
    note: cpuSplit(partsBefore, cpuByPart(), SCALE.openLoopCount + SCALE.groupSize),
  });
}
