/**
 * Bundles the Electron main process and the preload for packaging (`npm run build:main`; `npm run build`
 * also builds the renderer with vite):
 *
 *   main/electron/main.ts → dist/main/main.js       ESM, Node 22 (Electron 45's Node); packages stay external
 *                                                    (electron-builder ships the production node_modules,
 *                                                    native ones unpacked from the asar and rebuilt)
 *   preload/preload.ts    → dist/preload/preload.cjs CommonJS: a sandboxed preload cannot be an ES module;
 *                                                    only `electron` is external (it is all a sandboxed
 *                                                    preload may require)
 *
 * With --server (`npm run build:server`) it bundles the headless exchange server instead (build/server.ts):
 *
 *   server/src/main.ts    → server/dist/main.js      ESM, Node 20, executable (`tradedesk-server`); packages
 *                                                    stay external (server/package.json's dependencies)
 *
 * esbuild comes with tsx and vite (devDependencies); it type-strips only: `npm run typecheck` checks types.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { bundleServer, ROOT } from './server.js';

const production = process.env.NODE_ENV === 'production' || process.argv.includes('--production');

async function main(): Promise<void> {
  if (process.argv.includes('--server')) {
    rmSync(`${ROOT}/server/dist`, { recursive: true, force: true });
    await bundleServer();
    linkServerBin();
    return;
  }
  rmSync('dist/main', { recursive: true, force: true });
  rmSync('dist/preload', { recursive: true, force: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    sourcemap: production ? false : ('linked' as const),
    minify: false,
    legalComments: 'eof' as const,
    logLevel: 'info' as const,
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
  };
  await build({
    ...common,
    entryPoints: { main: 'main/electron/main.ts' },
    outdir: 'dist/main',
    format: 'esm',
    packages: 'external',
    outExtension: { '.js': '.js' },
  });
  await build({
    ...common,
    entryPoints: { preload: 'preload/preload.ts' },
    outdir: 'dist/preload',
    format: 'cjs',
    external: ['electron'],
    outExtension: { '.js': '.cjs' },
  });
}

/**
 * npm links a workspace's bin only when its target exists, and server/dist does not exist at `npm ci`: link
 * `tradedesk-server` now, so `npx tradedesk-server` runs this build instead of looking for it on the registry.
 */
function linkServerBin(): void {
  const npm = process.env.npm_execpath;
  if (!existsSync(`${ROOT}/node_modules/@tradedesk/server`) || npm === undefined) return;
  try {
    execFileSync(process.execPath, [npm, 'rebuild', '@tradedesk/server', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'ignore' });
  } catch (e) {
    console.warn(`could not link the tradedesk-server bin (run \`npm rebuild @tradedesk/server\`): ${(e as Error).message}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
