/**
 * A 2xx from the gateway is a promise: the report is durable and will reach its workflow. Proven
 * from outside on `npm run api` as a child process: killed with SIGKILL in the middle of a burst of
 * reports, then started again, and every report it had answered 202 is in its workflow.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../../src/infra/free-port';
import { createDatabase, type Database } from '../../src/db/client';
import { journalDispatched } from '../helpers/gateway';
import { killProcessGroup, runCommand, type RunningCommand } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const ADMIN_TOKEN = randomBytes(24).toString('base64url');

let gateway: RunningCommand | undefined;
let db: Database;
let connection: Connection;
let temporal: Client;

function startGatewayProcess(port: number, taskQueue: string): RunningCommand {
  return runCommand('npm', ['run', 'api'], {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ADMIN_TOKEN,
    SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
  });
}

async function ready(url: string, command: RunningCommand): Promise<void> {
  await waitFor(
    'the gateway to be ready',
    async () => {
      if (command.child.exitCode !== null) throw new Error(`npm run api exited:\n${command.output()}`);
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    60_000
  );
}

beforeAll(async () => {
  db = createDatabase(process.env.DATABASE_URL as string);
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  temporal = new Client({ connection });
});

afterAll(async () => {
  killProcessGroup(gateway);
  await connection?.close();
  await db?.$disconnect();
});

test('a gateway killed with SIGKILL during a burst loses none of the reports it answered 202', async () => {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const taskQueue = `durability-${randomUUID()}`;
  gateway = startGatewayProcess(port, taskQueue);
  await ready(url, gateway);
  const created = await fetch(`${url}/api/teams`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({
      name: `durable-${randomUUID().slice(0, 8)}`,
      slackChannelId: 'C0DURABLE',
      engineers: ['U0A'],
    }),
  });
  expect(created.status).toBe(201);
  const { webhookUrl } = (await created.json()) as { webhookUrl: string };
  const webhookPath = new URL(webhookUrl).pathname;

  // 16 senders, each sending distinct alerts until its connection breaks.
  const accepted: Array<{ workflowId: string; alertId: string }> = [];
  let sent = 0;
  const killed = gateway;
  const senders = Array.from({ length: 16 }, async () => {
    for (;;) {
      const key = `burst-${sent++}`;
      try {
        const response = await fetch(`${url}${webhookPath}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `Burst ${key}`, key }),
        });
        if (response.status === 202) accepted.push((await response.json()) as { workflowId: string; alertId: string });
      } catch {
        return; // the gateway is gone
      }
    }
  });
  await waitFor('a good part of the burst to be answered', () => accepted.length >= 100, 60_000);
  process.kill(-killed.pid, 'SIGKILL');
  await Promise.all(senders);
  await killed.exited;

  // Started again, the gateway's dispatcher finds what the killed one had not handed over yet.
  gateway = startGatewayProcess(port, taskQueue);
  await ready(url, gateway);
  for (const { workflowId } of accepted) await journalDispatched(db, workflowId);

  const missing: string[] = [];
  for (const { workflowId, alertId } of accepted) {
    const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const signalled = (history.events ?? []).some(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'occurrence'
    );
    if (!started || !signalled) missing.push(`${workflowId} (${alertId})`);
  }
  expect(missing).toEqual([]);
  expect(accepted.length).toBeGreaterThanOrEqual(100);
}, 180_000);
