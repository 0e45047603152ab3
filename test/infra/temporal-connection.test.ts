/**
 * Temporal Cloud settings (TEMPORAL_API_KEY, TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME) reach both kinds
 * of connection: the client's (gateway) and the worker's native one. A local HTTP/2 server with TLS
 * stands in for Cloud's frontend and records what each connection presented: the TLS handshake,
 * the client certificate and the API key are real; the server answers every call "unimplemented".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/infra/temporal-connection';

interface SeenCall {
  path: string;
  authorization?: string;
  clientCertificateSubject?: string;
}

let dir: string;
let server: http2.Http2SecureServer;
let address: string;
const seen: SeenCall[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by it. */
function makeCertificates(): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Test CA'
  );
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
  );
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'escalator-worker'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-tls-'));
  makeCertificates();
  server = http2.createSecureServer({
    key: readFileSync(path.join(dir, 'server.key')),
    cert: readFileSync(path.join(dir, 'server.pem')),
    ca: readFileSync(path.join(dir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: false,
    allowHTTP1: false,
  });
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = socket?.getPeerCertificate();
    seen.push({
      path: String(headers[':path']),
      authorization: typeof headers.authorization === 'string' ? headers.authorization : undefined,
      clientCertificateSubject: peer && socket?.authorized ? String(peer.subject?.CN) : undefined,
    });
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'stand-in' },
      { endStream: true }
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function cloudConfig(extra: Record<string, string>) {
  return loadConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...extra,
  });
}

async function attempt(connect: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  try {
    const connection = await connect();
    await connection.close();
  } catch {
    // The stand-in answers "unimplemented"; what it saw is what counts.
  }
}

test('with TEMPORAL_API_KEY, the client and the worker connection both send it as a bearer token over TLS', async () => {
  seen.length = 0;
  const options = temporalConnectionOptions(cloudConfig({ TEMPORAL_API_KEY: 'key-for-cloud' }).temporal);

  await attempt(() => Connection.connect({ ...options, connectTimeout: '5s' }));
  const clientCalls = seen.length;
  await attempt(() => NativeConnection.connect(options));

  expect(clientCalls).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThan(clientCalls);
  for (const call of seen) {
    expect(call).toMatchObject({
      path: expect.stringMatching(/^\/temporal\.api\./),
      authorization: 'Bearer key-for-cloud',
    });
  }
});

test('with TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY, both connections present the client certificate (mTLS)', async () => {
  seen.length = 0;
  const options = temporalConnectionOptions(
    cloudConfig({ TEMPORAL_TLS_CERT: path.join(dir, 'client.pem'), TEMPORAL_TLS_KEY: path.join(dir, 'client.key') })
      .temporal
  );

  await attempt(() => Connection.connect({ ...options, connectTimeout: '5s' }));
  const clientCalls = seen.length;
  await attempt(() => NativeConnection.connect(options));

  expect(clientCalls).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThan(clientCalls);
  for (const call of seen)
    expect(call).toMatchObject({ clientCertificateSubject: 'escalator-worker', authorization: undefined });
});

test('a client certificate without its key, or an unreadable file, stops the start with the variable named', () => {
  expect(() => loadConfig({ TEMPORAL_TLS_CERT: '/etc/escalator/client.pem' })).toThrow(
    new ConfigError(
      'Invalid configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both (client certificate and its key) or neither'
    )
  );
  const config = loadConfig({
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_TLS_CERT: '/nonexistent/client.pem',
    TEMPORAL_TLS_KEY: '/nonexistent/client.key',
  });
  expect(() => temporalConnectionOptions(config.temporal)).toThrow(
    /^TEMPORAL_TLS_CERT=\/nonexistent\/client\.pem cannot be read/
  );
});

test('without any TLS setting, connections stay plain, as to the embedded or compose server', () => {
  expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).temporal)).toEqual({
    address: 'temporal:7233',
  });
});
