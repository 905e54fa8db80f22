/**
 * Renaming into place (engine/host/rename.ts): on Windows a rename refused while another program holds the
 * file open for a moment is tried again; elsewhere, and for any other error, the first error is thrown.
 * Windows cannot run here: its refusals are given by the rename seam.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp.js';
import { RENAME_WAITS_ASYNC, renameOver, renameOverAsync } from '../../host/rename.js';

const tempDir = tempDirs('td-rename-');
const fail = (code: string) => Object.assign(new Error(`${code}: operation not permitted, rename`), { code });

describe('renameOver', () => {
  it('on Windows, tries again while the file is held open elsewhere, then renames', () => {
    const waits: number[] = [];
    const calls: string[][] = [];
    let refusals = ['EPERM', 'EBUSY', 'EACCES'];
    renameOver('a.tmp', 'a', {
      platform: 'win32',
      pause: (ms) => void waits.push(ms),
      rename: (f, t) => {
        calls.push([f, t]);
        const code = refusals.shift();
        if (code !== undefined) throw fail(code);
      },
    });
    expect(calls).toEqual(Array.from({ length: 4 }, () => ['a.tmp', 'a']));
    expect(waits).toEqual([10, 20, 40]);
    // held open for good: the refusal is given up after about 1.3 s of waiting
    waits.length = 0;
    refusals = [];
    expect(() => renameOver('a.tmp', 'a', { platform: 'win32', pause: (ms) => void waits.push(ms), rename: () => { throw fail('EPERM'); } })).toThrow(/^EPERM/);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(1270);
  });

  it('any other error, or any error on Linux and macOS, is thrown at once', () => {
    for (const [platform, code] of [['win32', 'ENOENT'], ['linux', 'EPERM'], ['darwin', 'EBUSY']] as const) {
      const waits: number[] = [];
      let tries = 0;
      const rename = () => {
        tries++;
        throw fail(code);
      };
      expect(() => renameOver('a.tmp', 'a', { platform, pause: (ms) => void waits.push(ms), rename })).toThrow(new RegExp(`^${code}`));
      expect([tries, waits]).toEqual([1, []]);
    }
  });

  it('the real rename, and its real pause between attempts', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.json'), '1');
    renameOver(join(dir, 'x.json'), join(dir, 'y.json'));
    expect(readdirSync(dir)).toEqual(['y.json']);
    let first = true;
    const t0 = performance.now();
    renameOver(join(dir, 'y.json'), join(dir, 'z.json'), {
      platform: 'win32',
      rename: (f, t) => {
        if (first) {
          first = false;
          throw fail('EBUSY');
        }
        renameOver(f, t);
      },
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(9);
    expect(readdirSync(dir)).toEqual(['z.json']);
  });
});

describe('renameOverAsync', () => {
  it('on Windows, waits off the event loop between attempts, longer than on the thread (about 9 s in all)', async () => {
    expect(RENAME_WAITS_ASYNC.reduce((a, b) => a + b, 0)).toBe(9270);
    const dir = tempDir();
    mkdirFolderWithFile(dir);
    let refusals = 2;
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await renameOverAsync(join(dir, '.partial'), join(dir, 'done'), {
      platform: 'win32',
      rename: async (f, t) => {
        if (refusals-- > 0) throw fail('EBUSY');
        await renameOverAsync(f, t);
      },
    });
    clearInterval(ticking);
    // waited 10 + 20 ms, and the event loop ran meanwhile
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(ticks).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(['done']);
    expect(readdirSync(join(dir, 'done'))).toEqual(['a.db']);
  });

  it('gives up after its waits on Windows, and at once elsewhere or for another error', async () => {
    let tries = 0;
    const refusing = async () => {
      tries++;
      throw fail('EPERM');
    };
    await expect(renameOverAsync('a', 'b', { platform: 'win32', waits: [1, 1, 1], rename: refusing })).rejects.toThrow(/^EPERM/);
    expect(tries).toBe(4);
    tries = 0;
    await expect(renameOverAsync('a', 'b', { platform: 'linux', rename: refusing })).rejects.toThrow(/^EPERM/);
    expect(tries).toBe(1);
    const dir = tempDir();
    await expect(renameOverAsync(join(dir, 'missing'), join(dir, 'b'), { platform: 'win32' })).rejects.toThrow(/ENOENT/);
  });
});

/** A folder with a file in it, as a backup's .partial- folder. */
function mkdirFolderWithFile(dir: string): void {
  mkdirSync(join(dir, '.partial'));
  writeFileSync(join(dir, '.partial', 'a.db'), 'x');
}
