/**
 * Builds the renderer once for all E2E files and runs: the output goes to a folder named by a hash of the
 * renderer's sources, so an unchanged tree is never rebuilt and parallel test files share one build (a
 * lock directory makes the others wait for the first).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
const RENDERER = join(REPO, 'renderer');

function hashTree(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(join(RENDERER, 'src'));
  for (const f of ['index.html', 'bench.html', 'vite.config.ts']) h.update(f).update(readFileSync(join(RENDERER, f)));
  h.update('NODE_ENV=production'); // the build recipe (earlier folders may hold development builds)
  // The protocol code is bundled too.
  walk(join(REPO, 'engine', 'protocol'));
  return h.digest('hex').slice(0, 16);
}

/** The directory of a current renderer build (built now if needed). */
export function rendererBuild(): string {
  const out = join(REPO, 'node_modules', '.cache', 'tradedesk-renderer', hashTree());
  if (existsSync(join(out, 'index.html'))) return out;
  const lock = `${out}.lock`;
  mkdirSync(join(REPO, 'node_modules', '.cache', 'tradedesk-renderer'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(out, 'index.html'))) return out;
      if (Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true }); // a crashed builder left it
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!existsSync(join(out, 'index.html'))) {
      const tmp = `${out}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      execFileSync(process.execPath, [join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(RENDERER, 'vite.config.ts'), '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], {
        cwd: REPO,
        // Always the production build (what ships, and what the UI bench measures): under the test runner
        // NODE_ENV is "test", which would otherwise give React's development build.
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      execFileSync('mv', [tmp, out]);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return out;
}
