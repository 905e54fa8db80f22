// resolveStatic (engine/host/static.ts) serves the renderer's build to browsers (the exchange server, the
// desktop's host and its tradedesk:// protocol). Property (fast-check): whatever URL path it is given,
// built from traversal pieces, separators, percent-encodings and names of files inside and outside the
// root, it resolves to nothing or to a file whose real path is inside the root, never to the sibling
// folder whose name starts like the root's, nor through a symlink that leads out.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStatic } from '../../host/static.js';

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'tdstatic-'));
  root = join(base, 'web');
  mkdirSync(join(root, 'assets', 'deep'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'app.js'), 'app');
  // dotfiles in the build are never served
  writeFileSync(join(root, '.env'), 'secret');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, '.git', 'config'), 'secret');
  writeFileSync(join(root, 'assets', 'deep', 'a.css'), 'css');
  // outside the root: a sibling whose name starts with the root's, and a secret beside it
  mkdirSync(join(base, 'web-evil'));
  writeFileSync(join(base, 'web-evil', 'secret.txt'), 'secret');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  // links: one inside to a file inside (fine), two leading out (never followed)
  symlinkSync(join(root, 'app.js'), join(root, 'alias.js'));
  symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(join(base, 'web-evil'), join(root, 'evil'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const PIECES = ['..', '.', '', 'assets', 'deep', 'a.css', 'app.js', 'alias.js', 'leak.txt', 'evil', 'secret.txt', 'web', 'web-evil', 'index.html', 'nope', 'nope.js', '%2e%2e', '%2E%2e', '%2f', '%5c', '..%2f', '..%5c', '%00', '%', '%E0%A4%A', 'é', '%C0%AE%C0%AE', '....', '.%2e'];
const SEPS = ['/', '\\', '//', '%2f', '/./'];

describe('resolveStatic', () => {
  it('resolves any path to nothing or to a file really inside the root', () => {
    const realRoot = realpathSync(root);
    const path = fc
      .tuple(fc.array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(...SEPS)), { minLength: 1, maxLength: 8 }), fc.boolean())
      .map(([parts, lead]) => (lead ? '/' : '') + parts.map(([p, s], i) => (i < parts.length - 1 ? p + s : p)).join(''));
    const served = new Set<string>();
    fc.assert(
      fc.property(path, (p) => {
        const r = resolveStatic(root, p);
        if (r === undefined) return;
        const real = realpathSync(r.file);
        expect(real === realRoot || real.startsWith(realRoot + sep), `${p} -> ${real}`).toBe(true);
        served.add(real.slice(realRoot.length));
      }),
      { numRuns: 20_000, seed: 20261206 },
    );
    // the generator reaches the files inside (so the property is not met by refusing everything)
    expect([...served].sort()).toEqual(expect.arrayContaining([`${sep}app.js`, `${sep}index.html`, `${sep}assets${sep}deep${sep}a.css`]));
  });

  it('known paths: the files, client-side routes to index.html, and the ways out refused', () => {
    const got = (p: string): string | undefined => {
      const r = resolveStatic(root, p);
      return r === undefined ? undefined : realpathSync(r.file).slice(realpathSync(root).length + 1);
    };
    expect(got('/app.js')).toBe('app.js');
    expect(got('/alias.js')).toBe('app.js');
    expect(got('/assets/deep/a.css')).toBe(join('assets', 'deep', 'a.css'));
    expect(got('/trade/ACME')).toBe('index.html');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/leak.txt', '/evil/secret.txt', '/../web-evil/secret.txt', '/app.js%00', '/%E0%A4%A', '/nope.js', '/.env', '/%2eenv', '/.git/config', '/.git', '/assets/../.env', '/.env/'])
      expect(got(p), p).toBeUndefined();
  });

  it('a path that leads out of the root is refused before anything outside is looked at: whether a file exists there does not show', () => {
    // An extension-less path that does not exist gets index.html (a client-side route); one that leads out
    // of the root must not, or a 200 for a missing file beside a 404 for an existing one tells which exist.
    for (const p of ['/../no-such-folder/no-such-file', '/../web-evil/nothing', '/%2e%2e/%2e%2e/no-such-thing', '/assets/../../nope'])
      expect(resolveStatic(root, p), p).toBeUndefined();
    // the same names inside the root are client-side routes
    expect(resolveStatic(root, '/no-such-folder/no-such-file')?.file).toBe(join(root, 'index.html'));
  });
});
