/**
 * A loopback HTTP relay between a sender and the gateway that records every notification and
 * the gateway's answer, and can lose an answer on purpose: the request reaches the gateway whole,
 * then the sender's connection is cut before the answer gets back, so that the sender (which
 * cannot tell what happened) sends it again.
 *
 *   const tap = await startNotificationTap(escalator.url);
 *   // the sender posts to `${tap.url}${team.webhookPath}/alertmanager`
 *   tap.loseNextAnswers(1);
 *   await waitFor('two deliveries', () => tap.notifications().length >= 2);
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the sender made, with what the gateway answered. */
export interface TappedNotification {
  path: string;
  /** The JSON body the sender posted (undefined when it was not JSON). */
  body: any;
  /** `Date.now()` when the whole request had arrived. */
  at: number;
  /** The gateway's HTTP status; undefined while it has not answered, or when it could not be reached. */
  status?: number;
  /** True when the answer was kept from the sender and its connection cut. */
  answerLost: boolean;
}

export interface NotificationTap {
  /** Base URL: the gateway's URL with the tap in between. */
  url: string;
  /** Every request so far, oldest first. */
  notifications(): TappedNotification[];
  /** The next `times` requests reach the gateway, and the sender's connection is cut instead of answered. */
  loseNextAnswers(times: number): void;
  close(): Promise<void>;
}

/** Starts a relay on 127.0.0.1 at a random port to `upstreamUrl` (scheme, host and port). */
export async function startNotificationTap(upstreamUrl: string): Promise<NotificationTap> {
  const upstream = new URL(upstreamUrl);
  const notifications: TappedNotification[] = [];
  let answersToLose = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
      const loseAnswer = answersToLose > 0;
      if (loseAnswer) answersToLose -= 1;
      const notification: TappedNotification = { path: req.url ?? '/', body, at: Date.now(), answerLost: loseAnswer };
      notifications.push(notification);

      const forwarded = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(raw.length) },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            notification.status = answer.statusCode;
            // The gateway has answered: the sender never hears it and sees its connection reset.
            if (loseAnswer) return void req.socket.resetAndDestroy();
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(answerChunks));
          });
        }
      );
      forwarded.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(error.message);
      });
      forwarded.end(raw);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    notifications: () => notifications.map((notification) => ({ ...notification })),
    loseNextAnswers(times) {
      answersToLose += times;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
