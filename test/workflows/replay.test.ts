/**
 * Determinism: histories recorded from earlier versions of the alert workflow must replay on the
 * current code. A change that would break alerts already running fails here; it then needs
 * `patched()` (FACTS.md), not a new fixture. Fixtures are the server's own binary encoding.
 *
 * Record a new history (after a deliberate, patched change) with RECORD_HISTORIES=1: the
 * workflow tests' escalate-then-ack scenario is written to test/fixtures/histories/.
 *
 * A history replays under its own workflow id (workflow-ids.json): the alert names its channel
 * turns after it, and a replay under another id would wait for a turn that never comes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';

const HISTORIES = path.join(__dirname, '../fixtures/histories');
const WORKFLOW_IDS = path.join(HISTORIES, 'workflow-ids.json');

test('every recorded alert history replays on the current workflow code', async () => {
  const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.binpb'));
  expect(files.length).toBeGreaterThan(0);
  const workflowIds = JSON.parse(readFileSync(WORKFLOW_IDS, 'utf8')) as Record<string, string>;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows') });
  for (const file of files) {
    const history = temporal.api.history.v1.History.decode(readFileSync(path.join(HISTORIES, file)));
    await expect(
      Worker.runReplayHistory({ workflowBundle }, history, workflowIds[file] ?? file)
    ).resolves.toBeUndefined();
  }
});
