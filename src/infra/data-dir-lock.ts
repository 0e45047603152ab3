/**
 * One `npm start` per data directory. The first start writes its pid into `escalator.pid`; a
 * second start while that process lives stops with one line naming it. When the recorded process
 * is gone (killed with `kill -9`, or the machine lost power), the start takes over: it first stops
 * what the dead one left running on this directory (its PostgreSQL and Temporal dev server would
 * otherwise hold the data files and ports), then records itself.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

export interface DataDirLock {
  release(): void;
}

const LEFTOVER_STOP_TIMEOUT_MS = 15_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process, or undefined where /proc cannot tell (not Linux, or gone). */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

/** Whether the pid is still a Node process (after a reboot the number may belong to anything). */
function isNode(pid: number): boolean {
  const cmdline = commandLine(pid);
  return cmdline === undefined || /\bnode\b|tsx|escalator/i.test(cmdline);
}

/** Processes whose command line names a file under `dataDir`: the embedded servers of an earlier start. */
function processesUsing(dataDir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .map(Number)
    .filter((pid) => {
      const cmdline = commandLine(pid);
      return cmdline !== undefined && cmdline.includes(`${dataDir}${path.sep}`) && /postgres|start-dev/.test(cmdline);
    });
}

async function stopLeftovers(dataDir: string, log: (message: string) => void): Promise<void> {
  const leftovers = processesUsing(dataDir);
  if (leftovers.length === 0) return;
  log(`stopping what an earlier start left running on ${dataDir}: pid ${leftovers.join(', ')}`);
  // SIGINT is PostgreSQL's fast shutdown; the Temporal CLI stops on it too.
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + LEFTOVER_STOP_TIMEOUT_MS;
  while (leftovers.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const pid of leftovers.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Takes the data directory for this process, or throws DataDirInUseError naming the process that
 * has it. `log` hears about a recovery after an unclean stop.
 */
export async function lockDataDir(dataDir: string, log: (message: string) => void): Promise<DataDirLock> {
  const lockFile = path.join(dataDir, 'escalator.pid');
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number(readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder) && isNode(holder)) {
      throw new DataDirInUseError(
        `Escalator (pid ${holder}) is already using ${dataDir}: stop it first, or give this one another ESCALATOR_DATA_DIR`
      );
    }
    log(`the last start on ${dataDir} (pid ${holder || 'unknown'}) did not stop cleanly: recovering`);
    await stopLeftovers(dataDir, log);
    rmSync(lockFile, { force: true });
  }
  return {
    release() {
      try {
        if (readFileSync(lockFile, 'utf8').trim() === String(process.pid)) rmSync(lockFile, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
