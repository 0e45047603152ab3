/**
 * The production topology on one machine, as processes: a throwaway PostgreSQL, the Temporal
 * server on it (persistence and visibility), and Escalator's own commands (`npm run migrate`,
 * `npm run api`, `npm run worker`) exactly as an operator runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { Connection } from '@temporalio/client';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres';
import { findFreePort } from '../../src/infra/free-port';
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries';

export const SERVER_ENV_FILE = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'server.env');
export const SCHEMA_SCRIPT = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'setup-schema.sh');
export const DYNAMIC_CONFIG = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig', 'escalator.yaml');

/** A child process in a process group of its own, its output in a log file and in memory. */
export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Signals the whole group (npm and the node it runs, like a container's processes). */
  signal(signal: NodeJS.Signals): void;
}

export function startProc(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  logDir: string,
  cwd = PROJECT_ROOT
): Proc {
  const logFile = path.join(logDir, `${name}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      // Enough to find start-up lines and errors; the file has everything.
      output = (output + chunk.toString('utf8')).slice(-200_000);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      log.end();
      resolve({ code, signal });
    });
  });
  const pid = child.pid;
  return {
    name,
    child,
    pid,
    logFile,
    output: () => output,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    signal(signal) {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

/** Runs a command to its end; fails with the tail of its output unless it exits 0. */
export async function runToEnd(proc: Proc, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    proc.exited,
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    proc.signal('SIGKILL');
    throw new Error(`${proc.name} did not finish within ${timeoutMs} ms:\n${tail(proc.output())}`);
  }
  if (result.code !== 0)
    throw new Error(`${proc.name} exited ${result.code ?? result.signal}:\n${tail(proc.output())}`);
  return proc.output();
}

export async function stopProc(proc: Proc | undefined, graceMs = 15_000): Promise<void> {
  if (!proc || !proc.running()) return;
  proc.signal('SIGTERM');
  const timer = setTimeout(() => proc.signal('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** The last lines of a process's output, each cut short (the server's JSON lines carry whole stack traces). */
export function tail(text: string, lines = 15): string {
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
    .join('\n');
}

/** `KEY=value` lines of an env file, as docker compose reads them (no quotes, no interpolation). */
export function readEnvFile(file: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) entries[match[1]!] = match[2]!.trim();
  }
  return entries;
}

export interface ThrowawayPostgres {
  /** What server.env calls POSTGRES_SEEDS / DB_PORT. */
  host: string;
  port: number;
  version: string;
  /** Escalator's database, as compose's postgresql service creates it (user and password from server.env). */
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * The project's embedded PostgreSQL on loopback, given the role and database that compose's
 * postgresql service creates (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB: a superuser).
 */
export async function startThrowawayPostgres(
  dataDir: string,
  role: { user: string; password: string; database: string }
): Promise<ThrowawayPostgres> {
  const pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir, database: 'postgres', persistent: false });
  const admin = new Client({ connectionString: pg.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE "${role.user}" LOGIN SUPERUSER PASSWORD '${role.password.replace(/'/g, "''")}'`);
    await admin.query(`CREATE DATABASE "${role.database}" OWNER "${role.user}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(`postgresql://127.0.0.1:${pg.port}/${role.database}`);
  url.username = role.user;
  url.password = role.password;
  const versionClient = new Client({ connectionString: pg.databaseUrl });
  await versionClient.connect();
  const version = (await versionClient.query<{ server_version: string }>('SHOW server_version')).rows[0]!
    .server_version;
  await versionClient.end();
  return { host: '127.0.0.1', port: pg.port, version, databaseUrl: url.toString(), stop: () => pg.stop() };
}

export interface TemporalServerPlan {
  /** The server's environment: server.env with the addresses and ports of this machine. */
  env: Record<string, string>;
  /** What differs from server.env, for the record. */
  overrides: Record<string, string>;
  address: string;
  metricsUrl: string;
}

/**
 * server.env as compose gives it to the image, with only what must differ outside a container:
 * the PostgreSQL address, loopback instead of every interface, the dynamic config file's path on
 * this disk, and free ports (other Temporal servers may run on this machine).
 */
export async function planTemporalServer(pg: ThrowawayPostgres): Promise<TemporalServerPlan> {
  const fromCompose = readEnvFile(SERVER_ENV_FILE);
  const ports: Record<string, string> = {};
  for (const name of [
    'FRONTEND_GRPC_PORT',
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ]) {
    ports[name] = String(await findFreePortBelow(32_768, Object.values(ports).map(Number)));
  }
  const metricsPort = await findFreePort();
  const overrides: Record<string, string> = {
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG,
    PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}`,
    ...ports,
  };
  return {
    env: { ...fromCompose, ...overrides },
    overrides,
    address: `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
  };
}

/** Waits until the frontend answers getSystemInfo (the server's roles are up and it serves requests). */
export async function waitForTemporal(address: string, server: Proc, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (!server.running()) throw new Error(`the Temporal server exited:\n${tail(server.output())}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return Date.now() - started;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
      }
      await sleep(500);
    }
  }
}

/**
 * A free loopback port below `limit`: the server stores membership ports in a PostgreSQL smallint,
 * and the kernel's own choice (findFreePort) lies above 32767.
 */
async function findFreePortBelow(limit: number, taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * (limit - 20_000));
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between 20000 and ${limit}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
