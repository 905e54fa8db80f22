/** Writes the golden replay files (engine/test/core/golden/*.jsonl). `npm run golden -- --update`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_FILES, recordGolden } from '../engine/testing/golden.js';

if (!process.argv.includes('--update')) {
  console.error('usage: npm run golden -- --update   (rewrites engine/test/core/golden/*.jsonl; review the diff)');
  process.exit(2);
}
const dir = join(import.meta.dirname, '..', 'engine', 'test', 'core', 'golden');
for (const [name, make] of Object.entries(GOLDEN_FILES)) {
  const text = recordGolden(make());
  writeFileSync(join(dir, name), text);
  console.log(`${name}: ${text.split('\n').length - 1} commands`);
}
