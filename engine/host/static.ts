/**
 * Files of the renderer's build (dist/renderer), for every host that serves it: the exchange server (to a
 * browser), the desktop's headless host and its `tradedesk://` protocol. A path is resolved inside the root
 * only (no `..`, no NUL, no symlink tricks past the root), never to a dotfile or into a dot-folder (.env,
 * .git), unknown extension-less paths get index.html (client-side routes), with a content type per
 * extension. Node layer: `node:*` only.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface ResolvedFile {
  file: string;
  type: string;
  size: number;
}

/** The file to serve for a URL path, or undefined (404). */
export function resolveStatic(rootDir: string, urlPath: string): ResolvedFile | undefined {
  const root = resolve(rootDir);
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  // no dotfile or dot-folder of the build (.env, .git): `.` and `..` are left to the checks below
  if (rel.split(/[\\/]/).some((seg) => seg.startsWith('.') && seg !== '.' && seg !== '..')) return undefined;
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  let file = normalize(join(root, rel));
  if (!inside(file)) return undefined;
  let st = stat(file);
  if (st?.isDirectory()) {
    file = join(file, 'index.html');
    st = stat(file);
  }
  if (st === undefined || !st.isFile()) {
    if (extname(rel) !== '') return undefined;
    file = join(root, 'index.html');
    st = stat(file);
    if (st === undefined || !st.isFile()) return undefined;
  }
  try {
    const real = realpathSync(file);
    const realRoot = realpathSync(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
  } catch {
    return undefined;
  }
  return { file, type: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', size: st.size };
}

export function hasIndex(rootDir: string): boolean {
  return existsSync(join(rootDir, 'index.html'));
}

function stat(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
