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
 * esbuild comes with tsx and vite (devDependencies); it type-strips only: `npm run typecheck` checks types.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const production = process.env.NODE_ENV === 'production' || process.argv.includes('--production');

async function main(): Promise<void> {
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

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
