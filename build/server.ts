/**
 * Bundles the headless exchange server (`npm run build:server`, through build/bundle.ts --server):
 *
 *   server/src/main.ts → server/dist/main.js   ESM, Node 20, one file with server/src and engine/ inside;
 *                                               npm packages stay external (the dependencies of
 *                                               server/package.json, installed beside it)
 *
 * The file starts with `#!/usr/bin/env -S node --max-semi-space-size=32` and is executable, so it is the
 * package's `tradedesk-server` bin, and run as one it has the Node flag of the production command (see
 * SERVER_NODE_FLAGS; npm's Windows shims read the flags from this line too). Paths here are relative to the
 * repository root, whatever the working directory.
 */
import { build, type Metafile } from 'esbuild';
import { chmodSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_OUTFILE = join(ROOT, 'server', 'dist', 'main.js');

/**
 * The Node flags the server runs with in production: a larger young generation lets the many short-lived
 * objects of each order die young (the saturated order bench: 41-44k orders/s with Node's default of 16 MB,
 * 48-49k with 32). The bundle's first line carries them, `npm run server` and the package's `start` pass
 * them, and bench:server starts its server process with them.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

export interface ServerBundle {
  outfile: string;
  /** The npm packages the bundle imports at run time (bare names, no node:* builtins). */
  packages: string[];
}

/**
 * How the server is compiled for running: bundled, type-stripped, names as they are. (tsx, for development,
 * also keeps every function's name, which defines a property on every closure made: the bench measured it
 * at about 5 KB per idle connection.) bench:server builds its server process with these too.
 */
export const SERVER_BUILD = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  minify: false,
} as const;

export async function bundleServer(outfile: string = SERVER_OUTFILE, o: { sourcemap?: boolean; quiet?: boolean } = {}): Promise<ServerBundle> {
  mkdirSync(dirname(outfile), { recursive: true });
  const r = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'server', 'src', 'main.ts')],
    outfile,
    ...SERVER_BUILD,
    banner: { js: `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}` },
    sourcemap: (o.sourcemap ?? true) ? 'linked' : false,
    legalComments: 'eof',
    metafile: true,
    logLevel: o.quiet === true ? 'warning' : 'info',
  });
  chmodSync(outfile, 0o755);
  return { outfile, packages: externalPackages(r.metafile) };
}

/** Package names imported by the bundle's outputs and left external (`@scope/name/sub` → `@scope/name`). */
export function externalPackages(meta: Metafile): string[] {
  const builtins = new Set(builtinModules);
  const names = new Set<string>();
  for (const out of Object.values(meta.outputs)) {
    for (const imp of out.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtins.has(imp.path.split('/')[0]!)) continue;
      const parts = imp.path.split('/');
      names.add(imp.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...names].sort();
}
