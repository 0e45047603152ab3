/**
 * Prepares a Temporal server for Escalator: the namespace exists and the alert workflow's custom
 * search attributes are registered on it. A workflow that sets an unregistered search attribute
 * fails its workflow task, so every alert would stall; this runs before the first worker does.
 * Safe to run any number of times, from several processes at once.
 *
 * CLI: `npm run temporal:setup` (or `node dist/infra/temporal-setup.js` in the image), configured by
 * TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
// The SDK's own mapping to the operator service's IndexedValueType numbers (not re-exported at top level).
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { loadConfig, type Config } from '../config';
import { temporalConnectionOptions } from './temporal-connection';
import { alertSearchAttributes } from '../workflows/definitions';

/** gRPC status codes that the operator and workflow services answer with. */
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

/** How long closed alert workflows stay visible in the Web UI of a namespace created here. */
const NAMESPACE_RETENTION = '7 days';

/** A freshly registered namespace reaches the operator service through a cache; wait this long for it. */
const NAMESPACE_PROPAGATION_TIMEOUT_MS = 60_000;

/** How long the CLI waits for a Temporal server that does not answer yet. */
const SERVER_STARTUP_TIMEOUT_MS = 60_000;

type Log = (message: string) => void;

export interface SearchAttributeSetup {
  /** Missing when this call looked, and registered by it (or by a setup racing it: the server accepts both). */
  added: string[];
  /** Found already registered with the right type. */
  alreadyPresent: string[];
}

export class TemporalSetupError extends Error {
  override name = 'TemporalSetupError';
}

/**
 * Registers the namespace unless it exists. Returns whether this call created it. Servers that do
 * not allow registering namespaces (Temporal Cloud) are fine as long as the namespace exists.
 */
export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  log: Log = () => undefined
): Promise<boolean> {
  if (await namespaceExists(connection, namespace)) return false;
  let created = true;
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION),
      description: 'Escalator alert workflows',
    });
    log(`registered namespace ${namespace}`);
  } catch (error) {
    // Another process registered it between our look and our call.
    if (!hasGrpcCode(error, GRPC_ALREADY_EXISTS)) throw error;
    created = false;
  }
  await waitUntilOperatorSees(connection, namespace);
  return created;
}

/**
 * Registers every search attribute of `alertSearchAttributes` that the namespace lacks; leaves the
 * ones already there alone. Fails when one exists with another type, which no workflow could use.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  log: Log = () => undefined
): Promise<SearchAttributeSetup> {
  const wanted = Object.values(alertSearchAttributes);
  const registered = await listSearchAttributeTypes(connection, namespace);
  checkTypes(wanted, registered);
  const missing = wanted.filter((key) => !registered.has(key.name));
  const result: SearchAttributeSetup = {
    added: [],
    alreadyPresent: wanted.filter((key) => registered.has(key.name)).map((key) => key.name),
  };
  if (missing.length === 0) return result;

  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type) as number])
      ),
    });
    result.added = missing.map((key) => key.name);
    for (const name of result.added) log(`registered search attribute ${name} in namespace ${namespace}`);
  } catch (error) {
    // Another process registered some of them first. Recent servers accept such a repeat; older
    // ones refuse the whole request, so look again at what is there now.
    if (!hasGrpcCode(error, GRPC_ALREADY_EXISTS)) throw error;
    const now = await listSearchAttributeTypes(connection, namespace);
    checkTypes(wanted, now);
    const stillMissing = wanted.filter((key) => !now.has(key.name)).map((key) => key.name);
    if (stillMissing.length > 0) {
      throw new TemporalSetupError(
        `search attributes ${stillMissing.join(', ')} could not be registered: ${String(error)}`
      );
    }
    result.alreadyPresent = wanted.map((key) => key.name);
  }
  return result;
}

async function namespaceExists(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch (error) {
    if (hasGrpcCode(error, GRPC_NOT_FOUND)) return false;
    throw error;
  }
}

/**
 * describeNamespace reads a new namespace straight from the database, but the operator service
 * answers from the frontend's namespace cache, which refreshes every few seconds.
 */
async function waitUntilOperatorSees(connection: Connection, namespace: string): Promise<void> {
  const deadline = Date.now() + NAMESPACE_PROPAGATION_TIMEOUT_MS;
  for (;;) {
    try {
      await connection.operatorService.listSearchAttributes({ namespace });
      return;
    } catch (error) {
      if (!hasGrpcCode(error, GRPC_NOT_FOUND)) throw error;
      if (Date.now() > deadline)
        throw new TemporalSetupError(`namespace ${namespace} was registered but never became usable`);
      await sleep(500);
    }
  }
}

/** Custom and system search attributes of the namespace, by name, with their type names. */
async function listSearchAttributeTypes(connection: Connection, namespace: string): Promise<Map<string, string>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  const types = new Map<string, string>();
  for (const attributes of [response.systemAttributes, response.customAttributes]) {
    for (const [name, code] of Object.entries(attributes ?? {})) types.set(name, searchAttributeTypeName(code));
  }
  return types;
}

function checkTypes(wanted: { name: string; type: SearchAttributeType }[], registered: Map<string, string>): void {
  for (const key of wanted) {
    const type = registered.get(key.name);
    if (type !== undefined && type !== key.type) {
      throw new TemporalSetupError(
        `search attribute ${key.name} is registered as ${type}, but Escalator writes ${key.type}; remove it or use another namespace`
      );
    }
  }
}

function searchAttributeTypeName(code: number): string {
  return (
    Object.values(SearchAttributeType).find((type) => Number(encodeSearchAttributeIndexedValueType(type)) === code) ??
    `type ${code}`
  );
}

function hasGrpcCode(error: unknown, code: number): boolean {
  return isGrpcServiceError(error) && Number(error.code) === code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deployments start this next to a Temporal server that may still be coming up: wait a while for it. */
async function connectWhenUp(temporal: Config['temporal'], address: string, print: Log): Promise<Connection> {
  const deadline = Date.now() + SERVER_STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      return await Connection.connect({ ...temporalConnectionOptions(temporal, address), connectTimeout: '5s' });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      print(`waiting for Temporal at ${address}: ${error instanceof Error ? error.message : String(error)}`);
      await sleep(2_000);
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { address, namespace } = config.temporal;
  if (!address) {
    throw new TemporalSetupError(
      'TEMPORAL_ADDRESS is not set: point it at the Temporal frontend to prepare (npm start prepares its embedded server itself)'
    );
  }
  const print: Log = (message) => process.stdout.write(`${message}\n`);
  const connection = await connectWhenUp(config.temporal, address, print);
  try {
    if (!(await ensureNamespace(connection, namespace, print))) print(`namespace ${namespace} already exists`);
    const { alreadyPresent } = await ensureSearchAttributes(connection, namespace, print);
    if (alreadyPresent.length > 0) print(`search attributes already registered: ${alreadyPresent.join(', ')}`);
    print(`Temporal at ${address} is ready for Escalator (namespace ${namespace})`);
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`temporal setup failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
