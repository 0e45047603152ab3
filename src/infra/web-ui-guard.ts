/**
 * The Temporal Web UI of `npm start` behind a Host check. The CLI's dev server serves its UI to
 * any `Host`: a page on another site whose name resolves to 127.0.0.1 (DNS rebinding) could read
 * the alerts and terminate workflows from the operator's browser, and the UI has no option to
 * refuse it. So the UI listens on a loopback port of its own and this proxy, on the UI's public
 * port, passes on only requests that name this machine (`localhost`, `127.0.0.1`, `[::1]`) and,
 * when they carry one, come from such an origin (issue 24).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a `Host` (or an Origin's host) names this machine, on `port`. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
  if (!match) return false;
  return LOOPBACK_HOSTNAMES.has(match[1]!) && Number(match[2] ?? 80) === port;
}

function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && isLoopbackHost(url.host, port);
  } catch {
    return false;
  }
}

export interface WebUiGuard {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` and passes requests that pass the Host check to 127.0.0.1:`upstreamPort`. */
export async function startWebUiGuard({
  port,
  upstreamPort,
}: {
  port: number;
  upstreamPort: number;
}): Promise<WebUiGuard> {
  const server = http.createServer((req, res) => {
    const listening = (server.address() as AddressInfo).port;
    if (!isLoopbackHost(req.headers.host, listening) || !isAllowedOrigin(req.headers.origin, listening)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`The Temporal Web UI is served to this machine only: open http://localhost:${listening}/\n`);
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('the Temporal Web UI did not answer\n');
    });
    req.pipe(upstream);
  });
  // The UI streams nothing over WebSockets: an upgrade is refused rather than passed unchecked.
  server.on('upgrade', (_req, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
