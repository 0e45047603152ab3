/**
 * A newcomer's first hour with `npm start`, nothing configured, run as a user runs it: what the
 * banner prints works when pasted into a shell (the test alert, the admin API curls, the Temporal
 * CLI line), the dev server's own log goes to a file, a second start on the same data directory
 * says in one line who has it, and after a `kill -9` the next start recovers by itself.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import puppeteer from 'puppeteer-core';
import { findFreePort } from '../../src/infra/free-port';
import {
  descendantsOf,
  exitWithin,
  killProcessGroup,
  removeNpmStartDataDir,
  listProcesses,
  runCommand,
  type RunningCommand,
} from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let dataDir: string;
const started: RunningCommand[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-first-hour-'));
});

afterAll(() => {
  for (const command of started) killProcessGroup(command);
  removeNpmStartDataDir(dataDir);
});

let uiPort = 0;

async function npmStart(): Promise<RunningCommand> {
  uiPort = await findFreePort();
  const command = runCommand('npm', ['start'], {
    PORT: String(await findFreePort()),
    TEMPORAL_UI_PORT: String(uiPort),
    ESCALATOR_DATA_DIR: dataDir,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    LOG_LEVEL: 'info',
  });
  started.push(command);
  return command;
}

async function waitUntilRunning(command: RunningCommand): Promise<void> {
  await waitFor(
    'npm start to print its banner',
    () => {
      if (command.child.exitCode !== null) throw new Error(`npm start exited early:\n${command.output()}`);
      return /Escalator is running\.[\s\S]*The admin API[\s\S]*\/api\/alerts\/<alertId>/.test(command.output());
    },
    60_000
  );
}

/** The banner's lines that follow `heading`, up to the next empty line. */
function linesAfter(output: string, heading: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start < 0) throw new Error(`"${heading}" is not in the output:\n${output}`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Runs what a person pastes, in a shell of their own: without the test run's Temporal variables. */
async function shell(script: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  const { stdout } = await run('sh', ['-c', script], { timeout: 30_000, env });
  return stdout;
}

let first: RunningCommand;

test('the banner prints what to paste: a test alert, the admin API, the Temporal CLI; all of it works', async () => {
  first = await npmStart();
  await waitUntilRunning(first);
  const output = first.output();

  expect(output).toMatch(/Slack: +dry run: nothing is sent; see the channels at http:\/\/localhost:\d+\/preview/);
  const tokenFile = path.join(dataDir, 'admin-token');
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  expect(output).toContain(`Admin token:     ${readFileSync(tokenFile, 'utf8').trim()}`);

  const sent = JSON.parse(await shell(linesAfter(output, 'Send a test alert').join('\n'))) as { alertId: string };
  expect(sent.alertId).toMatch(/^[0-9a-f-]{36}$/);

  const [listCurl, timelineCurl] = linesAfter(output, 'The admin API');
  const listed = JSON.parse(await shell(listCurl!)) as unknown;
  expect(JSON.stringify(listed)).toContain(sent.alertId);
  const timeline = JSON.parse(await shell(timelineCurl!.replace('<alertId>', sent.alertId))) as { id: string };
  expect(timeline.id).toBe(sent.alertId);

  const [cliLine] = linesAfter(output, 'The open alerts, with the Temporal CLI');
  await waitFor('the CLI to list the demo alert', async () => (await shell(cliLine!)).includes('alert/demo/'), 20_000);

  // The dev server's own lines are in a file, not interleaved with Escalator's.
  expect(existsSync(path.join(dataDir, 'temporal-dev-server.log'))).toBe(true);
  expect(output).not.toMatch(/level=WARN|GetHistory page size/);
}, 120_000);

/** The alert columns that docs/observability.md has a person add once in the Web UI's column settings. */
const ALERT_COLUMNS = ['Status', 'AlertTitle', 'AlertState', 'AlertTeam', 'AlertSeverity', 'Workflow ID', 'Start'];

test('the Web UI lists alerts with their title, state, team and severity once the alert columns are chosen', async () => {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 700 });
    const list = `http://localhost:${uiPort}/namespaces/default/workflows`;
    await page.goto(list);
    // What the Web UI's "Configure columns" drawer stores, per namespace, in the browser.
    await page.evaluate((columns) => {
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'namespace-workflow-table-columns',
        JSON.stringify({ default: columns.map((label) => ({ label })) })
      );
    }, ALERT_COLUMNS);
    await page.goto(`${list}?query=${encodeURIComponent('AlertTitle="disk"')}`);
    await waitFor(
      'the alert row with its title, state, team and severity',
      async () => {
        const text = await page.$eval('body', (body) => (body as unknown as { innerText: string }).innerText);
        return (
          /Disk almost full on db-1/.test(text) &&
          /\bopen\b/.test(text) &&
          /\bdemo\b/.test(text) &&
          /critical/.test(text)
        );
      },
      30_000
    );
    if (process.env.SCREENSHOTS_DIR) {
      await page.screenshot({ path: path.join(process.env.SCREENSHOTS_DIR, 'web-ui-alert-list.png') });
    }
  } finally {
    await browser.close();
  }
}, 60_000);

test('a second npm start on the same data directory says in one line which process uses it', async () => {
  const node = descendantsOf(first.pid).find((p) => p.cmdline.includes('src/main.ts'));
  expect(node).toBeDefined();

  const second = await npmStart();
  const exit = await exitWithin(second, 30_000);

  expect(exit.code).not.toBe(0);
  const lastLine = second.output().trim().split('\n').pop();
  expect(lastLine).toBe(
    `Escalator (pid ${node!.pid}) is already using ${dataDir}: stop it first, or give this one another ESCALATOR_DATA_DIR`
  );
  expect(second.output()).not.toMatch(/TypeError|\n\s+at /);
}, 60_000);

test('after kill -9 of npm start, the next start stops the leftovers and runs', async () => {
  const node = descendantsOf(first.pid).find((p) => p.cmdline.includes('src/main.ts'));
  process.kill(node!.pid, 'SIGKILL');
  await exitWithin(first, 10_000);
  // What it left running: its PostgreSQL and its dev server, still holding the data directory.
  expect(listProcesses().some((p) => p.cmdline.includes(dataDir))).toBe(true);

  const third = await npmStart();
  await waitUntilRunning(third);
  expect(third.output()).toContain('did not stop cleanly: recovering');

  process.kill(third.pid, 'SIGTERM');
  expect(await exitWithin(third, 30_000)).toMatchObject({ code: 0 });
  expect(listProcesses().filter((p) => p.cmdline.includes(dataDir))).toEqual([]);
}, 150_000);
