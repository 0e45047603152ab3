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
