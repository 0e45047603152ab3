/**
 * How every process connects to Temporal: the address, and for Temporal Cloud (or any server with
 * TLS) the TLS settings with a client certificate or an API key, from the configuration. The
 * client's Connection and the worker's NativeConnection take the same options.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, type Config } from '../config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** Connection options for `address` (default: the configured one); reads the PEM files now, failing with their variable's name. */
export function temporalConnectionOptions(
  temporal: Config['temporal'],
  address: string | undefined = temporal.address
): TemporalConnectionOptions {
  if (!address) throw new ConfigError('TEMPORAL_ADDRESS is not set');
  const { tls, apiKey } = temporal;
  if (!tls) return { address };
  return {
    address,
    tls: {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.caFile ? { serverRootCACertificate: readPem('TEMPORAL_TLS_CA', tls.caFile) } : {}),
      ...(tls.certFile && tls.keyFile
        ? {
            clientCertPair: {
              crt: readPem('TEMPORAL_TLS_CERT', tls.certFile),
              key: readPem('TEMPORAL_TLS_KEY', tls.keyFile),
            },
          }
        : {}),
    },
    ...(apiKey ? { apiKey } : {}),
  };
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${variable}=${file} cannot be read: ${(error as Error).message}`);
  }
}
