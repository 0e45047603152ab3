/**
 * The gateway as a listening server: stopping it (SIGTERM under `npm run api`) lets the requests
 * in flight finish and tells their clients not to send more over the same connection.
 */
import http from 'node:http';
import { startGateway } from '../../src/api/gateway';
import { createLogger } from '../../src/logger';
import { CLOSED_PORT_ADDRESS, createTestGateway } from '../helpers/gateway';

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      })
      .on('error', reject);
  });
}

test('a request in flight when the gateway stops is answered, with Connection: close so that its client reconnects elsewhere', async () => {
  // Temporal unreachable: /readyz takes about two seconds to answer, long enough to stop meanwhile.
  const test = createTestGateway({ temporalAddress: CLOSED_PORT_ADDRESS });
  const gateway = await startGateway(
    { config: test.config, db: test.db, temporal: test.temporal, log: createLogger({ level: 'error' }) },
    { port: 0, host: '127.0.0.1' }
  );
  const port = Number(new URL(gateway.url).port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const before = await get(agent, port, '/healthz');
    expect(before).toEqual({ status: 200, connection: 'keep-alive' });

    const inFlight = get(agent, port, '/readyz');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopped = gateway.close();

    expect(await inFlight).toEqual({ status: 503, connection: 'close' });
    await stopped;
  } finally {
    agent.destroy();
    await gateway.close();
    await test.close();
  }
});
