/**
 * Serves the renderer's web build (when the directory exists) with a strict Content-Security-Policy, so a
 * plain browser can use the workstation UI against this server. Unknown paths without an extension get
 * index.html (client-side routes); nothing outside the directory is reachable.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { hasIndex, resolveStatic } from '../../../engine/host/static.js';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export class StaticFiles {
  readonly root: string;
  constructor(dir: string) {
    this.root = resolve(dir);
  }

  get available(): boolean {
    return hasIndex(this.root);
  }

  /** True when it answered the request. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (!this.available) return false;
    const f = resolveStatic(this.root, pathname);
    if (f === undefined) return false;
    const { file, type } = f;
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': f.size,
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': type.startsWith('text/html') ? 'no-cache' : 'public, max-age=3600',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return true;
  }
}
