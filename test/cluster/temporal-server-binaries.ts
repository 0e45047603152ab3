/**
 * The real Temporal server and its `temporal-sql-tool`, of the version docker-compose.yml pins. In
 * order: TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH, a copy cached under
 * .tools/temporal-server-<version>/, and last `go install` from the Go module proxy (its go.mod
 * has no replace directive; a cold build takes many minutes on 2 cores, later ones seconds).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries';

const run = promisify(execFile);

export interface TemporalServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
}

/** The server version that docker-compose.yml runs; its schema job's admin-tools must be the same. */
export function pinnedTemporalVersion(): string {
  const compose = readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
  const server = /image:\s*temporalio\/server:(\S+)/.exec(compose)?.[1];
  const adminTools = /image:\s*temporalio\/admin-tools:(\S+)/.exec(compose)?.[1];
  if (!server) throw new Error('docker-compose.yml has no temporalio/server image');
  if (adminTools !== server) {
    throw new Error(`docker-compose.yml pins temporalio/server:${server} but temporalio/admin-tools:${adminTools}`);
  }
  return server;
}

export async function resolveTemporalServerBinaries(
  version: string,
  log: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env
): Promise<TemporalServerBinaries> {
  const cacheDir = path.join(PROJECT_ROOT, '.tools', `temporal-server-${version}`);
  const cached = { server: path.join(cacheDir, 'temporal-server'), sqlTool: path.join(cacheDir, 'temporal-sql-tool') };
  const explicit = { server: env.TEMPORAL_SERVER_PATH, sqlTool: env.TEMPORAL_SQL_TOOL_PATH };
  for (const [name, file] of [
    ['TEMPORAL_SERVER_PATH', explicit.server],
    ['TEMPORAL_SQL_TOOL_PATH', explicit.sqlTool],
  ] as const) {
    if (file && !existsSync(file)) throw new Error(`${name}=${file} does not exist`);
  }
  if ((!explicit.server && !existsSync(cached.server)) || (!explicit.sqlTool && !existsSync(cached.sqlTool))) {
    await goInstall(version, cacheDir, log);
  }
  return { version, server: explicit.server ?? cached.server, sqlTool: explicit.sqlTool ?? cached.sqlTool };
}

/** Builds both into a private folder, then renames them into place, so that a concurrent run never sees half. */
async function goInstall(version: string, cacheDir: string, log: (message: string) => void): Promise<void> {
  const staging = `${cacheDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const packages = ['cmd/server', 'cmd/tools/sql'].map((pkg) => `go.temporal.io/server/${pkg}@v${version}`);
  log(`building ${packages.join(' and ')} with go install (a first build takes many minutes)`);
  const started = Date.now();
  try {
    for (const pkg of packages) {
      await run('go', ['install', pkg], {
        env: { ...process.env, GOBIN: staging },
        maxBuffer: 64 * 1024 * 1024,
      });
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const reason = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n') ?? String(error);
    throw new Error(
      `could not build the Temporal server ${version} with go install (install Go, or set ` +
        `TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH):\n${reason}`
    );
  }
  renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
  renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
  mkdirSync(path.dirname(cacheDir), { recursive: true });
  try {
    renameSync(staging, cacheDir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run cached them first
  }
  log(`built in ${Math.round((Date.now() - started) / 1000)} s into ${path.relative(PROJECT_ROOT, cacheDir)}/`);
}
