/** Saving an export (main/src/save-file.ts) under plain Node, with the dialog's answer given. */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveTextFile } from '../src/save-file.js';

const dir = mkdtempSync(join(tmpdir(), 'td-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('saveTextFile', () => {
  it('offers the name in the folder, writes nothing when cancelled, and the whole text where chosen', async () => {
    const offered: string[] = [];
    expect(await saveTextFile(async (p) => (offered.push(p), undefined), dir, 'a.csv', 'x')).toEqual({ saved: false });
    expect(await saveTextFile(async () => '', dir, 'a.csv', 'x')).toEqual({ saved: false });
    expect(offered).toEqual([join(dir, 'a.csv')]);
    expect(readdirSync(dir)).toEqual([]);
    const text = 'é,"q"\r\n'.repeat(10_000);
    expect(await saveTextFile(async () => join(dir, 'b.csv'), dir, 'a.csv', text)).toEqual({ saved: true, path: join(dir, 'b.csv') });
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe(text);
    // over an existing file: replaced whole
    await saveTextFile(async () => join(dir, 'b.csv'), dir, 'a.csv', 'short');
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe('short');
    expect(readdirSync(dir)).toEqual(['b.csv']);
  });

  it('a place it cannot write to fails with no temp file left; a name with a folder is refused before asking', async () => {
    mkdirSync(join(dir, 'folder'));
    await expect(saveTextFile(async () => join(dir, 'folder'), dir, 'a.csv', 'x')).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['b.csv', 'folder']);
    let asked = false;
    await expect(
      saveTextFile(
        async () => {
          asked = true;
          return join(dir, 'c.csv');
        },
        dir,
        '../a.csv',
        'x',
      ),
    ).rejects.toThrow('Not a plain file name');
    expect(asked).toBe(false);
  });
});
