/**
 * Writes engine/sim/sample/SAMPLE.csv, the sample OHLCV file for replay, from engine/sim/sample.ts (the
 * project's own warm-up generator; seeded, so the file is the same on every run).
 *   npm run sim:sample            write the file
 *   npm run sim:sample -- --check exit 1 if the file differs from what the generator produces
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOhlcvCsv, sampleCsv } from '../engine/sim/index.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'engine', 'sim', 'sample', 'SAMPLE.csv');
const text = sampleCsv();
const bars = parseOhlcvCsv(text);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: differs
  }
  if (current !== text) {
    console.error(`${file} is out of date: run npm run sim:sample`);
    process.exit(1);
  }
  console.log(`${file} is up to date (${bars.length} bars)`);
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${file}: ${bars.length} bars, ${bars[0]!.o / 100} -> ${bars[bars.length - 1]!.c / 100}`);
}
