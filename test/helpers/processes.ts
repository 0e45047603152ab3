/**
 * Escalator's commands as child processes, looked at from outside as an operator would: their
 * output, their exit, and the process table (Linux `/proc`) for anything they left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { embeddedClusterDir } from '../../src/infra/embedded-postgres';
import { StopWaiting, waitFor } from './wait';

export const PROJECT_ROOT = path.resolve(__dirname, '../..');

/**
 * Safety nets, not expectations: every wait below ends as soon as what it waits for happens (a line
 * in the output, a URL answering, an exit). They are only there so that a hung process fails the
 * test with its output instead of hanging the run. A first `npm start` on a fresh, loaded machine
 * took about 48 s (Temporal CLI download, PostgreSQL initdb); stopping is seconds.
 */
export const START_CAP_MS = 5 * 60_000;
export const STOP_CAP_MS = 2 * 60_000;

export interface RunningCommand {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with how the process ended (also when it already has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `command args` in the project root with exactly `env` (plus PATH and HOME), in a process
 * group of its own so that a failed test can still clean up everything it started.
 */
export function runCommand(command: string, args: string[], env: Record<string, string | undefined>): RunningCommand {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return { child, pid: child.pid, output: () => output, exited };
}

/** Kills what is left of a command's process group (a test that failed half-way); ignores a group already gone. */
export function killProcessGroup(command: RunningCommand | undefined): void {
  if (!command) return;
  try {
    process.kill(-command.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Kills every process whose command line names `text` (a data directory): what a failed test's
 * `npm start` runs outside its process group (its PostgreSQL has a group of its own).
 */
export function killProcessesNaming(text: string): void {
  for (const { pid } of listProcesses().filter((other) => other.cmdline.includes(text))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Removes an `npm start` data directory with what it left: processes still naming it (a failed
 * test's PostgreSQL or dev server, each in a process group of its own), and, run as root, the
 * embedded cluster, which lives outside it under /var/lib/escalator.
 */
export function removeNpmStartDataDir(dataDir: string): void {
  killProcessesNaming(dataDir);
  rmSync(embeddedClusterDir(path.join(dataDir, 'postgres')), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Clock ticks after boot when it started: tells a process from a later one that reuses its pid. */
  startTime: string;
  /** R, S, D, Z (zombie) … */
  state: string;
  cmdline: string;
}

/** One process from /proc, or undefined when it no longer exists. */
export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), state: fields[0] as string, startTime: fields[19] as string, cmdline };
  } catch {
    return undefined;
  }
}

/** Every process on the machine that can be read now. */
export function listProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => readProcess(Number(entry)) ?? []);
}

/** The processes below `pid` (children, their children …), not `pid` itself. */
export function descendantsOf(pid: number): ProcessInfo[] {
  const all = listProcesses();
  const found: ProcessInfo[] = [];
  const parents = [pid];
  while (parents.length > 0) {
    const parent = parents.shift() as number;
    for (const child of all.filter((candidate) => candidate.ppid === parent)) {
      found.push(child);
      parents.push(child.pid);
    }
  }
  return found;
}

/**
 * Which of `processes` still run: the same pid with the same start time, and not a zombie (a
 * zombie runs nothing; it waits for a parent, which may be a container's init, to reap it).
 */
export function stillRunning(processes: ProcessInfo[]): ProcessInfo[] {
  return processes.filter((before) => {
    const now = readProcess(before.pid);
    return now !== undefined && now.startTime === before.startTime && now.state !== 'Z';
  });
}

/** Waits for `command` to exit, failing with its output when it takes longer than `ms` (a safety net). */
export async function exitWithin(
  command: RunningCommand,
  ms = STOP_CAP_MS
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${command.output()}`)), ms);
  });
  try {
    return await Promise.race([command.exited, tooLate]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `command` has written `text`; gives up at once, with its output, if it exits first. */
export async function waitForOutput(command: RunningCommand, text: string, capMs = START_CAP_MS): Promise<void> {
  await waitFor(
    `the output to say ${JSON.stringify(text)}`,
    () => {
      if (command.output().includes(text)) return true;
      if (command.child.exitCode !== null || command.child.signalCode !== null)
        throw new StopWaiting(`exited before saying ${JSON.stringify(text)}:\n${command.output()}`);
      return false;
    },
    capMs
  );
}

/** Waits until `url` answers 200 while `command` runs; gives up at once, with its output, if it exits first. */
export async function waitForUrl(command: RunningCommand, url: string, capMs = START_CAP_MS): Promise<void> {
  await waitFor(
    `${url} to answer 200`,
    async () => {
      if (command.child.exitCode !== null || command.child.signalCode !== null)
        throw new StopWaiting(`exited before ${url} answered 200:\n${command.output()}`);
      return (await fetch(url)).status === 200;
    },
    capMs
  );
}

/**
 * The addresses a process listens on (TCP, IPv4 and IPv6), as `host:port`: its socket inodes
 * matched against the kernel's tables in /proc/net.
 */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed while we looked.
    }
  }
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address, rem_address, st (0A: LISTEN), …, inode (10th field).
      if (fields[3] !== '0A' || !inodes.has(fields[9] ?? '')) continue;
      const [hexHost, hexPort] = (fields[1] ?? '').split(':') as [string, string];
      addresses.push(`${decodeHost(hexHost)}:${parseInt(hexPort, 16)}`);
    }
  }
  return addresses;
}

/** /proc/net's little-endian hex addresses: `0100007F` is 127.0.0.1; IPv6 in four such words. */
function decodeHost(hex: string): string {
  const ipv4 = (word: string) => (word.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16));
  if (hex.length === 8) return ipv4(hex).join('.');
  const words = (hex.match(/.{8}/g) ?? []).flatMap((word) => ipv4(word));
  if (words.slice(0, 10).every((b) => b === 0) && words[10] === 255 && words[11] === 255) {
    return words.slice(12).join('.');
  }
  if (words.every((b) => b === 0)) return '::';
  if (words.slice(0, 15).every((b) => b === 0) && words[15] === 1) return '::1';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((words[i]! << 8) | words[i + 1]!).toString(16));
  return groups.join(':');
}
