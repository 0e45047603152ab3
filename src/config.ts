/**
 * Configuration: one schema, parsed once at start. Every variable is documented in
 * docs/configuration.md and .env.example (test/docs checks both); nothing else in the code reads
 * process.env.
 */
import { DEFAULT_CHANNEL_PACE } from './domain/channel-pace';
import { parseDuration } from './domain/duration';
import { z } from 'zod';
import { decodeLocalKey } from './secrets/local-key';

/**
 * PostgreSQL connections per process when DATABASE_POOL_SIZE is unset. Intake holds a connection
 * for one short local transaction (no network call inside), so a few connections serve hundreds
 * of reports a second; PostgreSQL itself does best with a few active connections per core, and
 * every gateway and worker process has a pool of its own.
 */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

export { formatDuration, parseDuration } from './domain/duration';

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 2m or 5m, got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65_535).default(8233),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('alerts'),
  DATABASE_URL: optionalText,
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_API_URL: optionalText,
  ADMIN_TOKEN: optionalText,
  ESCALATION_TIMEOUT: duration.default(5 * 60_000),
  PUBLIC_URL: optionalText,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
  ESCALATOR_DATA_DIR: optionalText,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(DEFAULT_DATABASE_POOL_SIZE),
  INTAKE_MAX_BACKLOG: z.coerce.number().int().min(1).default(10_000),
  INTAKE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(256),
  STORM_THRESHOLD: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_CHANNEL_PACE.stormThreshold),
  SLACK_CLIENT_ID: optionalText,
  SLACK_CLIENT_SECRET: optionalText,
  SLACK_STATE_SECRET: optionalText,
  ENCRYPTION_KEY: optionalText.refine((key) => key === undefined || decodeLocalKey(key) !== undefined, {
    message: 'expected the base64 of 32 bytes (openssl rand -base64 32)',
  }),
  ENCRYPTION_KEY_PREVIOUS: optionalText.refine(
    (keys) => keys === undefined || keys.split(',').every((key) => decodeLocalKey(key) !== undefined),
    { message: 'expected base64 keys of 32 bytes, separated by commas' }
  ),
  KMS_KEY_ID: optionalText,
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_KEY: optionalText,
  TEMPORAL_TLS_CA: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TRUST_PROXY: optionalText,
  METRICS_TOKEN: optionalText,
  GATEWAY_METRICS_PORT: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65_535).optional()
  ),
});

export interface Config {
  port: number;
  temporal: {
    /** Unset: `npm start` runs an embedded dev server. */
    address?: string;
    uiPort: number;
    namespace: string;
    taskQueue: string;
    /** Temporal Cloud or a server with TLS: set, every connection uses TLS (and the API key or client certificate). */
    tls?: TemporalTls;
    apiKey?: string;
  };
  /** Unset: `npm start` runs an embedded PostgreSQL under .data/. */
  databaseUrl?: string;
  /** PostgreSQL connections per process. */
  databasePoolSize: number;
  intake: {
    /** Reports waiting in the intake journal beyond which new ones are answered 503 with Retry-After. */
    maxBacklog: number;
    /** Intake requests handled at once by one gateway; more are answered 503 at once. */
    maxInFlight: number;
  };
  slack: {
    botToken?: string;
    signingSecret?: string;
    apiUrl: string;
    /** No token and no API URL: Slack messages are written to the log instead of sent. */
    dryRun: boolean;
  };
  adminToken?: string;
  escalationTimeoutMs: number;
  /** Alert messages waiting for one channel beyond which its storm digest appears (docs/storm.md). */
  stormThreshold: number;
  publicUrl: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** `pretty`: short coloured lines for a person; `json`: one JSON object a line. Unset: pretty on a terminal. */
  logFormat?: 'pretty' | 'json';
  /** Where `npm run worker` serves Escalator's Prometheus metrics (the gateway serves /metrics). */
  metricsPort: number;
  /** Where a worker process exports the Temporal SDK's own metrics. */
  temporalMetricsPort: number;
  /** Where `npm start` keeps its embedded PostgreSQL, Temporal state and demo endpoint; unset: .data/. */
  dataDir?: string;
  /** OAuth v2 install for many workspaces: set only when all three variables are. */
  slackOAuth?: { clientId: string; clientSecret: string; stateSecret: string };
  /** Key-encryption keys of the secrets kept in PostgreSQL (secrets/index.ts). */
  secrets: {
    /** Base64 of 32 bytes; `npm start` generates one into the data directory when unset. */
    encryptionKey?: string;
    /** Earlier local keys, still readable until `npm run rotate-keys` has rewrapped everything. */
    previousKeys: string[];
    /** AWS KMS key (id, ARN or alias); when set it is the current key-encryption key. */
    kmsKeyId?: string;
  };
  /** Bearer that opens the gateway's `/metrics` on its public port; unset: not served there. */
  metricsToken?: string;
  /** Port on which the gateway serves its `/metrics` apart from the public one; unset: none. */
  gatewayMetricsPort?: number;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client; unset: none. */
  trustProxy?: string | number | boolean;
}

/** Paths of PEM files, read when a connection is made. */
export interface TemporalTls {
  /** Client certificate and key for mTLS (Temporal Cloud's certificate auth); both or neither. */
  certFile?: string;
  keyFile?: string;
  /** CA of the server's certificate when the system's CAs do not know it (a self-hosted server). */
  caFile?: string;
  serverName?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the configuration from an environment, failing with every offending variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const oauthVariables = [e.SLACK_CLIENT_ID, e.SLACK_CLIENT_SECRET, e.SLACK_STATE_SECRET];
  if (oauthVariables.some((value) => value !== undefined) && oauthVariables.some((value) => value === undefined)) {
    throw new ConfigError(
      'Invalid configuration: SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET: set all three for the OAuth install, or none'
    );
  }
  const slackOAuth =
    e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET && e.SLACK_STATE_SECRET
      ? { clientId: e.SLACK_CLIENT_ID, clientSecret: e.SLACK_CLIENT_SECRET, stateSecret: e.SLACK_STATE_SECRET }
      : undefined;
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both (client certificate and its key) or neither'
    );
  }
  const tlsSettings = [e.TEMPORAL_API_KEY, e.TEMPORAL_TLS_CERT, e.TEMPORAL_TLS_CA, e.TEMPORAL_TLS_SERVER_NAME];
  return {
    port: e.PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      uiPort: e.TEMPORAL_UI_PORT,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      // An API key travels as a bearer token: never without TLS.
      tls: tlsSettings.some((value) => value !== undefined)
        ? {
            certFile: e.TEMPORAL_TLS_CERT,
            keyFile: e.TEMPORAL_TLS_KEY,
            caFile: e.TEMPORAL_TLS_CA,
            serverName: e.TEMPORAL_TLS_SERVER_NAME,
          }
        : undefined,
      apiKey: e.TEMPORAL_API_KEY,
    },
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    intake: { maxBacklog: e.INTAKE_MAX_BACKLOG, maxInFlight: e.INTAKE_MAX_IN_FLIGHT },
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL ?? 'https://slack.com/api/',
      dryRun: e.SLACK_BOT_TOKEN === undefined && e.SLACK_API_URL === undefined && slackOAuth === undefined,
    },
    adminToken: e.ADMIN_TOKEN,
    escalationTimeoutMs: e.ESCALATION_TIMEOUT,
    stormThreshold: e.STORM_THRESHOLD,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsPort: e.METRICS_PORT,
    temporalMetricsPort: e.TEMPORAL_METRICS_PORT,
    dataDir: e.ESCALATOR_DATA_DIR,
    slackOAuth,
    secrets: {
      encryptionKey: e.ENCRYPTION_KEY,
      previousKeys: e.ENCRYPTION_KEY_PREVIOUS?.split(',').map((key) => key.trim()) ?? [],
      kmsKeyId: e.KMS_KEY_ID,
    },
    trustProxy: trustProxySetting(e.TRUST_PROXY),
    metricsToken: e.METRICS_TOKEN,
    gatewayMetricsPort: e.GATEWAY_METRICS_PORT,
  };
}

/** `true`/`false`, a hop count, or addresses and subnets (`loopback`, `10.0.0.0/8`), as Express takes them. */
function trustProxySetting(value: string | undefined): string | number | boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
