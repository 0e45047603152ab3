import { foldRepeats, type PendingEntry } from '../../src/intake/dispatcher';
import type { JournalEntry } from '../../src/intake/journal';

const workflowId = 'alert/ops/disk-full';
const content = { title: 'Disk full', severity: 'critical' as const, source: 'generic' };

function pending(id: number, entry: JournalEntry): PendingEntry {
  return { id, workflowId, entry, createdAt: new Date(), attempts: 0 };
}

function occurrence(id: number, alertId: string): PendingEntry {
  return pending(id, {
    kind: 'occurrence',
    workflowId,
    start: {
      taskQueue: 'alerts',
      summary: 'Disk full',
      input: {
        alertId,
        fingerprint: 'disk-full',
        team: { id: 't', name: 'ops', slackChannelId: 'C1', engineers: [], escalationTimeoutMs: 1 },
        content,
      },
    },
    signal: { alertId, content, receivedAt: new Date().toISOString() },
  });
}

describe("the dispatcher's folding of one workflow's waiting entries into signals", () => {
  test('consecutive occurrences of one alert are one signal; a resolution, a press or another alert ends the run', () => {
    const chain = [
      occurrence(1, 'a'),
      occurrence(2, 'a'),
      occurrence(3, 'a'),
      pending(4, { kind: 'action', workflowId, signal: { action: 'ack', userId: 'U1', pressId: 'p1' } }),
      occurrence(5, 'a'),
      pending(6, { kind: 'resolution', workflowId, signal: { alertId: 'a', receivedAt: new Date().toISOString() } }),
      occurrence(7, 'b'),
      occurrence(8, 'b'),
      occurrence(9, 'c'),
    ];

    const batches = foldRepeats(chain).map((batch) => batch.map((entry) => entry.id));

    expect(batches).toEqual([[1, 2, 3], [4], [5], [6], [7, 8], [9]]);
  });
});
