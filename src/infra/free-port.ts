import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Ports are drawn from here up to the start of the ephemeral range. */
const LOWEST_PORT = 10_000;
/** Linux's default start of the ephemeral range; other systems start higher (macOS: 49152). */
const DEFAULT_EPHEMERAL_START = 32_768;
const ATTEMPTS = 20;

/** Where the kernel starts picking local ports for outgoing connections and for port 0. */
function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const start = Number(low);
    return Number.isInteger(start) && start > LOWEST_PORT + 1_000 ? start : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

/** Listens on `port` (0: the kernel's pick) on loopback and closes again; the port, or undefined if taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/** Whether nothing listens on 127.0.0.1:`port` now. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await tryPort(port)) !== undefined;
}

/**
 * A free loopback port for a server that starts listening a little later (a child process, a
 * gateway). Drawn at random below the ephemeral range and checked free: the kernel's own pick
 * (port 0) comes from that range, where every outgoing connection made in between takes its local
 * port, and one did take it before a test's `npm start` listened (EADDRINUSE in CI). The kernel's
 * pick is the last resort.
 */
export async function findFreePort(): Promise<number> {
  const high = Math.min(ephemeralRangeStart(), 65_536);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await tryPort(LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT)));
    if (port !== undefined) return port;
  }
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}
