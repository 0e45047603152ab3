import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONTRACT_VARIABLES } from './contract';

const ROOT = path.resolve(__dirname, '../..');
const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

/** `NAME: value` pairs of the environment block that every Escalator service of the file shares. */
function escalatorEnvironment(): Map<string, string> {
  const block = /^ {2}environment: &escalator-environment\n((?: {4}.+\n)+)/m.exec(compose);
  expect(block).not.toBeNull();
  return new Map([...block![1]!.matchAll(/^ {4}([A-Z0-9_]+): (.*)$/gm)].map((match) => [match[1]!, match[2]!]));
}

test("every Escalator container gets the contract's variables, passed through from the user's .env", () => {
  const environment = escalatorEnvironment();

  // TEMPORAL_UI_PORT belongs to the embedded dev server, which containers never start.
  expect([...environment.keys()].sort()).toEqual(
    CONTRACT_VARIABLES.filter((name) => name !== 'TEMPORAL_UI_PORT').sort()
  );
  for (const [name, value] of environment) expect(value).toMatch(new RegExp(`^\\$\\{${name}:-.*\\}$`));
});

test('every command of the compose file and the image runs a file that the build compiles', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const entries = new Set(
    [...`${compose}\n${dockerfile}`.matchAll(/\bdist\/([\w/-]+)\.js\b/g)].map((match) => match[1]!)
  );

  expect([...entries].sort()).toEqual(['api/main', 'db/migrate-cli', 'infra/temporal-setup', 'worker']);
  // tsconfig.build.json compiles src/ into dist/, file for file.
  for (const entry of entries)
    expect({ entry, exists: existsSync(path.join(ROOT, 'src', `${entry}.ts`)) }).toEqual({ entry, exists: true });
});

/** The lines of one top-level service of the compose file. */
function service(name: string): string {
  const block = new RegExp(`^ {2}${name}:\\n((?: {4}.*\\n|\\n)+)`, 'm').exec(compose);
  expect(block).not.toBeNull();
  return block![1]!;
}

test('the Temporal server and its schema job run the files that npm run test:cluster proves: server.env and setup-schema.sh', () => {
  const server = service('temporal');
  const schemaJob = service('temporal-schema');

  // Everything the server image reads comes from the shared file, nothing from an inline list.
  for (const block of [server, schemaJob]) {
    expect(block).toContain('env_file: ./deploy/temporal/server.env');
    expect(block).not.toMatch(/^ {4}environment:/m);
  }
  expect(schemaJob).toContain('./deploy/temporal/setup-schema.sh:/scripts/setup-schema.sh:ro');
  expect(schemaJob).toMatch(/entrypoint: \['\/bin\/sh', '\/scripts\/setup-schema\.sh'\]/);
  // server.env names the dynamic config file where the compose file mounts it.
  expect(server).toContain('./deploy/temporal/dynamicconfig:/etc/temporal/config/dynamicconfig:ro');
  expect(readFileSync(path.join(ROOT, 'deploy/temporal/server.env'), 'utf8')).toMatch(
    /^DYNAMIC_CONFIG_FILE_PATH=\/etc\/temporal\/config\/dynamicconfig\/escalator\.yaml$/m
  );
  expect(existsSync(path.join(ROOT, 'deploy/temporal/dynamicconfig/escalator.yaml'))).toBe(true);
});
