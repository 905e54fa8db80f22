/**
 * The user-data folder's small files (main/src/json-file.ts): each write leaves the old file or the new one
 * whole, even across a power cut (the rename into place is engine/host/rename.ts, tested there).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../engine/test/support/temp.js';
import { readJsonFile, writeJsonFileAtomic } from '../src/json-file.js';
import { runTraced, straceCalls } from '../../engine/test/support/strace.js';

const tempDir = tempDirs('td-json-');


describe('writeJsonFileAtomic', () => {
  it('replaces the file whole, mode 0600, with no temp file left', () => {
    const dir = tempDir();
    const file = join(dir, 'sub', 'links.json');
    writeJsonFileAtomic(file, { groups: [1, 2] });
    writeJsonFileAtomic(file, { groups: [3] });
    expect(readJsonFile(file)).toEqual({ groups: [3] });
    expect(readFileSync(file, 'utf8')).toBe('{\n  "groups": [\n    3\n  ]\n}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['links.json']);
  });

  it("syncs the new text to the disk before it renames it over the file (so a power cut can't leave an empty file)", () => {
    const dir = tempDir();
    const log = join(dir, 'trace');
    const { log: trace, out } = runTraced<{ file: string; tmp: string }>('main/test/run/atomic-write.ts', [dir], ['openat', 'write', 'fsync', 'fdatasync', 'close', 'rename', 'renameat', 'renameat2'], log);
    const { file, tmp } = out;
    expect(readJsonFile(file)).toEqual({ profiles: [{ name: 'second' }] });
    // the calls on the temp file, in order, as one word each
    const steps = straceCalls(trace).flatMap((l) => {
      if (l.startsWith('openat(') && l.includes(`"${tmp}"`)) return [/O_WRONLY|O_RDWR/.test(l) ? 'open-for-writing' : 'open'];
      if (/^rename(at2?)?\(/.test(l) && l.includes(`"${tmp}"`)) return [l.includes(`"${file}"`) && /= 0$/.test(l) ? 'rename-over-file' : 'rename'];
      const on = /^(write|fsync|fdatasync|close)\(\d+<([^>]*)>/.exec(l);
      return on !== null && on[2] === tmp ? [on[1]!] : [];
    });
    // (writes of one text may be one call or several)
    const once = ['open-for-writing', 'write', 'fsync', 'close', 'rename-over-file'];
    expect(steps.filter((s, i) => !(s === 'write' && steps[i - 1] === 'write'))).toEqual([...once, ...once]);
  });
});
