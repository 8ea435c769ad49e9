import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { parseConfigText } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';

// The two places a user learns the config from, the contract's YAML block and config.example.yaml, must load as
// they are and name every key the gateway accepts (in a value or a comment): a key missing there is a key nobody
// finds, and a documented default the gateway refuses is a trap.
const ENV = { WALLAROO_CLIENT_SECRET: 'x', WALLAROO_USER: 'u', WALLAROO_PASSWORD: 'p' };

function specConfigBlock(): string {
  const spec = readFileSync(fileURLToPath(new URL('../../docs/SPEC.md', import.meta.url)), 'utf8');
  const section = spec.slice(spec.indexOf('\n## Config'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'docs/SPEC.md has a yaml block under "## Config"');
  return block[1]!;
}

/** Every key path of the schema's objects, as [path, key] pairs (array items as `[]`). */
function schemaKeys(schema: TSchema, path: string, out: Array<[string, string]>): Array<[string, string]> {
  const variants: TSchema[] = schema.anyOf ?? [schema];
  for (const variant of variants) {
    if (variant.type === 'array' && variant.items) schemaKeys(variant.items as TSchema, `${path}[]`, out);
    if (variant.type === 'object' && variant.properties) {
      for (const [key, child] of Object.entries(variant.properties as Record<string, TSchema>)) {
        out.push([path, key]);
        schemaKeys(child, path ? `${path}.${key}` : key, out);
      }
    }
  }
  return out;
}

function missingKeys(text: string): string[] {
  const named = new Set([...text.matchAll(/([A-Za-z][A-Za-z0-9]*):/g)].map((match) => match[1]!));
  // "every secret also as ...File": naming one form documents both.
  const documented = (key: string) => named.has(key) || named.has(`${key}File`) || (key.endsWith('File') && named.has(key.slice(0, -4)));
  return schemaKeys(ConfigSchema, '', []).filter(([, key]) => !documented(key)).map(([path, key]) => (path ? `${path}.${key}` : key));
}

const documents = [
  { name: 'docs/SPEC.md', text: specConfigBlock },
  { name: 'config.example.yaml', text: () => readFileSync(fileURLToPath(new URL('../../config.example.yaml', import.meta.url)), 'utf8') },
];

for (const { name, text } of documents) {
  test(`${name}: the documented config loads as written and names every key the gateway accepts`, () => {
    assert.doesNotThrow(() => parseConfigText(text(), ENV));
    assert.deepEqual(missingKeys(text()), []);
  });
}
