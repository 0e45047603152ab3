/**
 * The real senders our users run, as plain processes on loopback: Debian's Prometheus Alertmanager
 * (0.25) and Prometheus (2.42), each with a generated config file, free ports and its data in a
 * temporary directory, stopped by the test that started them.
 *
 *   const missing = missingSenders();              // a reason to skip, or undefined
 *   const am = await startAlertmanager({ webhookUrl, groupWait: '1s', groupInterval: '1s', repeatInterval: '2s' });
 *   await am.fire({ labels: { alertname: 'DiskFull', instance: 'db-1' }, startsAt });
 *   await am.stop();
 *
 * Alerts are injected through Alertmanager's own API (`POST /api/v2/alerts`), as Prometheus does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/free-port';
import { exitWithin, killProcessGroup, runCommand, START_CAP_MS, STOP_CAP_MS, type RunningCommand } from './processes';
import { StopWaiting, waitFor } from './wait';

/** The Debian packages' commands (`apt-get install prometheus prometheus-alertmanager`). */
export const ALERTMANAGER_COMMAND = 'prometheus-alertmanager';
export const PROMETHEUS_COMMAND = 'prometheus';

/** Why the real senders cannot run here (what is missing and how to get it), or undefined when they can. */
export function missingSenders(): string | undefined {
  const missing = [ALERTMANAGER_COMMAND, PROMETHEUS_COMMAND].filter(
    (command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0
  );
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} not installed (apt-get install -y prometheus prometheus-alertmanager; .ci/run does it)`;
}

/** An alert as Prometheus hands it to Alertmanager's API. */
export interface InjectedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Which firing this is; Alertmanager keeps the earliest of overlapping ones. */
  startsAt: Date;
}

export interface RunningAlertmanager {
  url: string;
  /** Posts alerts as firing (ending an hour from now, unless re-posted resolved). */
  fire(...alerts: InjectedAlert[]): Promise<void>;
  /** Posts alerts as resolved now: the same labels and `startsAt`, `endsAt` now. */
  resolve(...alerts: InjectedAlert[]): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Where the receiver posts (`<webhookUrl>/alertmanager` as docs/sources.md says). */
  webhookUrl: string;
  /** Lines added under the route (child routes) and at the top level (time_intervals), as YAML. */
  childRoutes?: string[];
  topLevel?: string[];
  /** Label names that group alerts into one notification. */
  groupBy?: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

/** Starts Alertmanager with one route to one webhook receiver and waits until it is ready. */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-alertmanager-'));
  const configFile = path.join(dir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    [
      'route:',
      '  receiver: escalator',
      `  group_by: [${(options.groupBy ?? ['alertname']).map((label) => JSON.stringify(label)).join(', ')}]`,
      `  group_wait: ${options.groupWait}`,
      `  group_interval: ${options.groupInterval}`,
      `  repeat_interval: ${options.repeatInterval}`,
      ...(options.childRoutes ? ['  routes:', ...options.childRoutes.map((line) => `    ${line}`)] : []),
      ...(options.topLevel ?? []),
      'receivers:',
      '  - name: escalator',
      '    webhook_configs:',
      `      - url: ${JSON.stringify(options.webhookUrl)}`,
      '        send_resolved: true',
      '',
    ].join('\n')
  );
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startReady(
    ALERTMANAGER_COMMAND,
    [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // One instance, no gossip: an empty address turns clustering off.
      '--cluster.listen-address=',
    ],
    `${url}/-/ready`,
    dir
  );

  const post = async (alerts: InjectedAlert[], endsAt: (alert: InjectedAlert) => Date) => {
    const response = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(
        alerts.map((alert) => ({
          labels: alert.labels,
          annotations: alert.annotations ?? {},
          startsAt: alert.startsAt.toISOString(),
          endsAt: endsAt(alert).toISOString(),
          generatorURL: 'http://prometheus.test/graph',
        }))
      ),
    });
    if (response.status !== 200)
      throw new Error(`Alertmanager refused alerts: ${response.status} ${await response.text()}`);
  };

  return {
    url,
    fire: (...alerts) => post(alerts, () => new Date(Date.now() + 3_600_000)),
    resolve: (...alerts) => post(alerts, () => new Date()),
    output: () => server.command.output(),
    stop: server.stop,
  };
}

export interface RunningPrometheus {
  url: string;
  /** Replaces the alerting rules and has Prometheus reload them (SIGHUP), as an operator would. */
  reloadRules(rules: string): void;
  output(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Alertmanager's base URL. */
  alertmanagerUrl: string;
  /** Alerting rules, as the `rules:` list of one group (YAML, indented four spaces). */
  rules: string;
}

/** Starts Prometheus evaluating `rules` every second and sending to Alertmanager, and waits until it is ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-prometheus-'));
  const alertmanager = new URL(options.alertmanagerUrl);
  const writeRules = (rules: string) =>
    writeFileSync(
      path.join(dir, 'rules.yml'),
      ['groups:', '  - name: escalator-test', '    interval: 1s', '    rules:', rules, ''].join('\n')
    );
  writeRules(options.rules);
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'alerting:',
      '  alertmanagers:',
      '    - static_configs:',
      `        - targets: [${JSON.stringify(alertmanager.host)}]`,
      '',
    ].join('\n')
  );
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startReady(
    PROMETHEUS_COMMAND,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Re-send firing alerts every second rather than every minute, so that re-sends happen in a test.
      '--rules.alert.resend-delay=1s',
    ],
    `${url}/-/ready`,
    dir
  );
  return {
    url,
    reloadRules(rules) {
      writeRules(rules);
      server.command.child.kill('SIGHUP');
    },
    output: () => server.command.output(),
    stop: server.stop,
  };
}

/** Runs `command` until `readyUrl` answers 200; stop() ends it with SIGTERM and removes `dir`. */
async function startReady(
  command: string,
  args: string[],
  readyUrl: string,
  dir: string
): Promise<{ command: RunningCommand; stop: () => Promise<void> }> {
  const running = runCommand(command, args, {});
  // It runs in a process group of its own: if the test process ends without stopping it, end it too.
  const killOnExit = () => killProcessGroup(running);
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGTERM');
      await exitWithin(running, STOP_CAP_MS).catch(() => killProcessGroup(running));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${command} to be ready`,
      async () => {
        if (running.child.exitCode !== null) throw new StopWaiting(`${command} exited:\n${running.output()}`);
        return (await fetch(readyUrl)).status === 200;
      },
      START_CAP_MS
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { command: running, stop };
}
