/**
 * The Temporal dev server that `npm start` runs (the Temporal CLI's `server start-dev`, with its
 * Web UI). It takes Temporal's usual port 7233 when that is free, so that the `temporal` CLI works
 * without `--address`, and writes its own log lines to a file in the data directory: only its
 * errors reach Escalator's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync } from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';
import type { Logger } from '../logger';
import { findFreePort, isPortFree } from './free-port';
import { startWebUiGuard } from './web-ui-guard';

/** The port the `temporal` CLI and SDKs try when no address is given. */
export const TEMPORAL_DEFAULT_PORT = 7233;

/** How long a first start may take (the CLI creates its SQLite database and namespace). */
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/** The CLI's names for search attribute types (`--search-attribute Name=Type`). */
const CLI_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface DevServerOptions {
  cliPath: string;
  dbFilename: string;
  logFile: string;
  namespace: string;
  uiPort: number;
  searchAttributes: Array<SearchAttributeKey<SearchAttributeType>>;
  /** More `start-dev` flags (SQLite pragmas). */
  extraArgs?: string[];
  /** Scheduling niceness of the server process (0: as this one; higher yields the CPU to others). */
  niceness?: number;
  log: Logger;
}

export interface RunningDevServer {
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  /** The server process. */
  pid: number | undefined;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Starts the dev server and resolves once its frontend answers. */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const { log } = options;
  const port = (await isPortFree(TEMPORAL_DEFAULT_PORT)) ? TEMPORAL_DEFAULT_PORT : await findFreePort();
  if (port !== TEMPORAL_DEFAULT_PORT) {
    log.info(`port ${TEMPORAL_DEFAULT_PORT} is taken: the Temporal dev server listens on ${port} instead`);
  }
  // The SQLite file and the WAL and shared-memory files beside it are the operator's alone,
  // whatever the mode of the directory they are in: the server runs with umask 077 (below), and
  // files an earlier version left readable are made private.
  for (const file of [options.dbFilename, `${options.dbFilename}-wal`, `${options.dbFilename}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
  // The UI itself listens on a loopback port of its own; the Host-checking guard takes its public port.
  const uiUpstreamPort = await findFreePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-ip',
    '127.0.0.1',
    '--ui-port',
    String(uiUpstreamPort),
    '--db-filename',
    options.dbFilename,
    '--namespace',
    options.namespace,
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
    ...options.searchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPES[key.type]}`]),
    ...(options.extraArgs ?? []),
  ];
  // In a process group of its own, out of reach of a terminal's Ctrl-C (sent to the whole
  // foreground group): interrupted at once, it cut the worker's polls while the worker drained and
  // logged errors about them; stopped by its owner, it goes after the worker.
  // `sh -c 'umask 077; exec …'`: the umask for the server alone (process.umask would change this
  // whole process's); exec keeps the pid, which niceness and stopping use.
  const child = spawn('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', options.cliPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: devServerEnvironment(),
  });
  if (options.niceness && child.pid !== undefined) {
    try {
      os.setPriority(child.pid, options.niceness);
    } catch (error) {
      log.warn({ err: error }, 'could not lower the Temporal dev server’s CPU priority');
    }
  }
  const file = createWriteStream(options.logFile, { flags: 'a' });
  const recent: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      file.write(`${line}\n`);
      recent.push(line);
      if (recent.length > 20) recent.shift();
      if (/\blevel=(ERROR|FATAL|DPANIC|PANIC)\b|"level":"(error|fatal)"|^\s*(ERROR|FATAL)\b/i.test(line)) {
        log.error({ component: 'temporal-dev-server' }, line);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${port}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      file.end();
      throw new Error(
        `the Temporal dev server exited (${child.exitCode ?? child.signalCode}) before it was ready; its log is ${options.logFile}:\n${recent.join('\n')}`
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.describeNamespace({ namespace: options.namespace });
      await connection.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stopChild(child, exited);
        file.end();
        throw new Error(`the Temporal dev server did not answer on ${address} within 60 s: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  let uiGuard;
  try {
    uiGuard = await startWebUiGuard({ port: options.uiPort, upstreamPort: uiUpstreamPort });
  } catch (error) {
    await stopChild(child, exited);
    file.end();
    throw error;
  }
  return {
    address,
    port,
    pid: child.pid,
    uiUrl: `http://localhost:${uiGuard.port}`,
    async stop() {
      await uiGuard.close();
      await stopChild(child, exited);
      await new Promise<void>((resolve) => file.end(resolve));
    },
  };
}

/**
 * The dev server's environment: what a process needs, nothing of Escalator's (SLACK_*, ADMIN_TOKEN,
 * OAuth and signing secrets, ENCRYPTION_KEY, DATABASE_URL). The server reads its settings from
 * flags; whatever runs as it, or reads its /proc/<pid>/environ, learns no secret (issue 24).
 */
export function devServerEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'LC_CTYPE'];
  return Object.fromEntries(kept.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
