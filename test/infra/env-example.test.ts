import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { CONTRACT_VARIABLES } from './contract';

const ROOT = path.resolve(__dirname, '../..');

/** `NAME=value` lines of .env.example, commented out or not. */
function exampleValues(): Map<string, string> {
  const text = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const values = new Map<string, string>();
  for (const match of text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)) values.set(match[1]!, match[2]!.trim());
  return values;
}

/** The variable names that src/config.ts parses. */
function configVariables(): string[] {
  const source = readFileSync(path.join(ROOT, 'src', 'config.ts'), 'utf8');
  const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source);
  expect(schema).not.toBeNull();
  return [...schema![1]!.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
}

test('.env.example documents every variable of src/config.ts (every contract variable among them), and no other', () => {
  const documented = [...exampleValues().keys()].sort();

  expect(documented).toEqual(expect.arrayContaining([...CONTRACT_VARIABLES]));
  expect(documented).toEqual(configVariables().sort());
});

test('every value .env.example shows is accepted by the configuration', () => {
  const env = Object.fromEntries(exampleValues());

  expect(() => loadConfig(env)).not.toThrow();
});

test('the values .env.example gives for variables with a default are those defaults', () => {
  const values = exampleValues();
  const defaults = loadConfig({});

  for (const name of [
    'PORT',
    'TEMPORAL_UI_PORT',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
    'ESCALATION_TIMEOUT',
    'LOG_LEVEL',
  ]) {
    expect({ name, config: loadConfig({ [name]: values.get(name) }) }).toEqual({ name, config: defaults });
  }
  expect(loadConfig({ SLACK_API_URL: values.get('SLACK_API_URL') }).slack.apiUrl).toBe(defaults.slack.apiUrl);
});
