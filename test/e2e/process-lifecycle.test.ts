/**
 * `npm start` as a user runs it, with nothing configured: it starts its own PostgreSQL and Temporal
 * dev server, and a stop signal must stop all of it, leaving no process and no locked data
 * directory behind. Its data directory is a fresh temporary one (ESCALATOR_DATA_DIR), never the
 * project's `.data/`, which a developer may be using.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedClusterDir } from '../../src/infra/embedded-postgres';
import { findFreePort } from '../../src/infra/free-port';
import {
  descendantsOf,
  exitWithin,
  killProcessGroup,
  listeningAddresses,
  listProcesses,
  removeNpmStartDataDir,
  runCommand,
  START_CAP_MS,
  STOP_CAP_MS,
  stillRunning,
  waitForOutput,
  waitForUrl,
  type RunningCommand,
} from '../helpers/processes';
import { startFakeSlack } from '../helpers/fake-slack';
import { StopWaiting, waitFor } from '../helpers/wait';

// Each test starts and stops `npm start` once; its waits end on what they wait for, this is only the net.
jest.setTimeout(START_CAP_MS + STOP_CAP_MS + 30_000);

let dataDir: string;
let escalator: RunningCommand | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-npm-start-'));
});

afterEach(() => {
  killProcessGroup(escalator);
  escalator = undefined;
  removeNpmStartDataDir(dataDir);
});

/** Where the embedded PostgreSQL keeps its cluster (for root, under /var/lib/escalator). */
function clusterDir(): string {
  return embeddedClusterDir(path.join(dataDir, 'postgres'));
}

/** PostgreSQL's lock on its data directory: present while a server runs on it. */
function postmasterPid(): string {
  return path.join(clusterDir(), 'postmaster.pid');
}

async function npmStart(
  env: Record<string, string> = {}
): Promise<{ started: RunningCommand; port: number; uiPort: number }> {
  const [port, uiPort] = [await findFreePort(), await findFreePort()];
  escalator = runCommand('npm', ['start'], {
    PORT: String(port),
    TEMPORAL_UI_PORT: String(uiPort),
    ESCALATOR_DATA_DIR: dataDir,
    // Where the test run found the Temporal CLI (this machine may not reach its download host).
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    LOG_LEVEL: 'info',
    ...env,
  });
  return { started: escalator, port, uiPort };
}

/** However long the start takes (a first start fetches the Temporal CLI): until it says so. */
async function waitUntilRunning(started: RunningCommand): Promise<void> {
  await waitForOutput(started, 'Escalator is running.');
}

test('npm start becomes ready, and SIGTERM stops everything it started and exits 0', async () => {
  const { started, port, uiPort } = await npmStart();
  await waitUntilRunning(started);
  // Ready means /readyz says so: it asks Temporal and PostgreSQL each time, and gives each 2 s.
  await waitForUrl(started, `http://127.0.0.1:${port}/readyz`);
  expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);

  // What it started, seen from outside: PostgreSQL holds its data directory, the dev server runs.
  expect(existsSync(postmasterPid())).toBe(true);
  const children = descendantsOf(started.pid);
  expect(children.some((child) => /\bpostgres\b/.test(child.cmdline) && child.cmdline.includes(clusterDir()))).toBe(
    true
  );
  expect(children.some((child) => /server start-dev/.test(child.cmdline))).toBe(true);
  // The dev server (frontend, Web UI) and PostgreSQL take no connection from other machines.
  const devServer = children.find((child) => /server start-dev/.test(child.cmdline))!;
  const postgres = children.filter((child) => /\bpostgres\b/.test(child.cmdline));
  const listening = [devServer, ...postgres].flatMap((child) => listeningAddresses(child.pid));
  expect(listening.filter((address) => !address.startsWith('127.0.0.1:'))).toEqual([]);
  // The Web UI's port is held by Escalator's Host check (src/infra/web-ui-guard.ts), on loopback too.
  const everyone = [started.pid, ...children.map((child) => child.pid)].flatMap((pid) => listeningAddresses(pid));
  expect(everyone).toContain(`127.0.0.1:${uiPort}`);

  // As a supervisor (or `kill`) stops it: one SIGTERM to the npm process alone.
  process.kill(started.pid, 'SIGTERM');
  const exit = await exitWithin(started);

  expect({ exit, output: started.output() }).toMatchObject({ exit: { code: 0, signal: null } });
  expect(stillRunning(children).map((child) => child.cmdline)).toEqual([]);
  expect(
    listProcesses().filter((other) => other.cmdline.includes(dataDir) || other.cmdline.includes(clusterDir()))
  ).toEqual([]);
  expect(existsSync(postmasterPid())).toBe(false);
  expect(started.output()).toContain('"msg":"stopped"');
});

test('Ctrl-C in a terminal (SIGINT to the whole process group) stops everything too and exits 0', async () => {
  const { started } = await npmStart();
  await waitUntilRunning(started);
  const children = descendantsOf(started.pid);

  // A terminal signals every process of the foreground group at once, and npm passes it on
  // again: not to be taken for a second, impatient Ctrl-C.
  process.kill(-started.pid, 'SIGINT');
  const exit = await exitWithin(started);

  expect({ exit, output: started.output() }).toMatchObject({ exit: { code: 0, signal: null } });
  expect(started.output()).not.toContain('exiting without waiting');
  // Each part stopped in its turn (the dev server after the worker, PostgreSQL last): nothing
  // warns of a poll or a session cut under it.
  const stopping = started.output().slice(started.output().indexOf('"msg":"stopping Escalator"'));
  expect(stopping.split('\n').filter((line) => /"level":(40|50|60)\b/.test(line))).toEqual([]);
  expect(stillRunning(children).map((child) => child.cmdline)).toEqual([]);
  expect(existsSync(postmasterPid())).toBe(false);
});

test('SIGTERM while it is still starting stops what was already started', async () => {
  const { started } = await npmStart();
  await waitFor(
    'PostgreSQL to be started',
    () => {
      if (started.child.exitCode !== null) throw new StopWaiting(`npm start exited:\n${started.output()}`);
      return existsSync(postmasterPid());
    },
    START_CAP_MS
  );
  const children = descendantsOf(started.pid);

  process.kill(started.pid, 'SIGTERM');
  const exit = await exitWithin(started);

  expect({ exit, output: started.output() }).toMatchObject({ exit: { code: 0, signal: null } });
  expect(stillRunning(children).map((child) => child.cmdline)).toEqual([]);
  // What it started after the snapshot (the dev server keeps its state in the data directory too).
  expect(
    listProcesses().filter((other) => other.cmdline.includes(dataDir) || other.cmdline.includes(clusterDir()))
  ).toEqual([]);
  expect(existsSync(postmasterPid())).toBe(false);
});

test('with Slack configured, npm start makes no demo team and prints no demo token; its data folder is private', async () => {
  const slack = await startFakeSlack({ token: 'xoxb-process-lifecycle' });
  try {
    const privateData = path.join(dataDir, 'data');
    const { started } = await npmStart({
      ESCALATOR_DATA_DIR: privateData,
      SLACK_API_URL: slack.url,
      SLACK_BOT_TOKEN: 'xoxb-process-lifecycle',
    });
    await waitUntilRunning(started);

    expect(started.output()).not.toContain('demo');
    expect(existsSync(path.join(privateData, 'demo-endpoint.json'))).toBe(false);
    expect(statSync(privateData).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(privateData, 'postgres', 'credentials.json')).mode & 0o777).toBe(0o600);

    process.kill(started.pid, 'SIGTERM');
    expect(await exitWithin(started)).toMatchObject({ code: 0 });
    removeNpmStartDataDir(privateData);
  } finally {
    await slack.close();
  }
});

test('SIGTERM in a storm stops npm start within 15 s; started again, it goes on posting what waited', async () => {
  const slack = await startFakeSlack({ token: 'xoxb-storm-stop', pace: true });
  try {
    const adminToken = 'storm-stop-admin-token';
    const env = { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: 'xoxb-storm-stop', ADMIN_TOKEN: adminToken };
    const { started, port } = await npmStart(env);
    await waitUntilRunning(started);
    const gateway = `http://127.0.0.1:${port}`;
    const channel = 'C0STORMSTOP';
    const team = (await (
      await fetch(`${gateway}/api/teams`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'storm-stop', slackChannelId: channel, engineers: ['U0ANN'] }),
      })
    ).json()) as { webhookUrl: string };
    const webhook = `${gateway}${new URL(team.webhookUrl).pathname}`;
    const sent = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(webhook, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `Stop-storm ${i}`, key: `stop-storm-${i}` }),
        }).then((response) => response.status)
      )
    );
    expect(sent.filter((status) => status === 202).length).toBeGreaterThan(0);
    const posts = () => slack.messages(channel).filter((m) => !m.threadTs && m.text?.includes('Stop-storm')).length;
    await waitFor(
      'the storm under way',
      () => posts() >= 3 && slack.messages(channel).some((m) => m.text?.startsWith('Alert storm')),
      60_000
    );

    const stoppingAt = Date.now();
    process.kill(started.pid, 'SIGTERM');
    expect(await exitWithin(started)).toMatchObject({ code: 0 });
    expect(Date.now() - stoppingAt).toBeLessThanOrEqual(15_000);

    const postedBefore = posts();
    const again = await npmStart(env);
    await waitUntilRunning(again.started);
    await waitFor('posting to go on after the restart', () => posts() > postedBefore + 2, 60_000);
    process.kill(again.started.pid, 'SIGTERM');
    expect(await exitWithin(again.started)).toMatchObject({ code: 0 });
  } finally {
    await slack.close();
  }
});
