/** Golden replays: recorded commands in, expected events out, compared byte for byte on both books. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../core/engine.js';
import type { Command } from '../../core/types.js';
import { GOLDEN_FILES, recordGolden } from '../../testing/golden.js';

const dir = join(import.meta.dirname, 'golden');
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

describe('golden replays', () => {
  it('has a file for every recorded scenario', () => {
    expect(files.sort()).toEqual(Object.keys(GOLDEN_FILES).sort());
  });

  describe.each(['fast', 'reference'] as const)('on the %s book', (book) => {
    it.each(files)('%s replays byte for byte', (name) => {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.length > 0);
      expect(lines.length).toBeGreaterThan(20);
      const e = new Engine({ book });
      lines.forEach((line, i) => {
        const { cmd } = JSON.parse(line) as { cmd: Command };
        const got = JSON.stringify({ cmd, events: e.execute(cmd) });
        expect(got, `${name} line ${i + 1}`).toBe(line);
      });
    });
  });

  it('the recorded commands are still what the scenarios generate', () => {
    for (const [name, make] of Object.entries(GOLDEN_FILES)) {
      const recorded = readFileSync(join(dir, name), 'utf8');
      expect(recordGolden(make()), name).toBe(recorded);
    }
  });
});
