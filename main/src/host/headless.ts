/**
 * The headless host: the desktop's hub and local venue (with the simulated market) under plain Node, with
 * a WebSocket Port in place of Electron's MessagePort, serving the renderer's build. A browser tab is then
 * exactly a desktop window: it reads `/config.json` (`kind: "hub"`), opens `/hub` and speaks the protocol
 * to the hub. Used for end-to-end tests in Chromium and for running the workstation in a browser.
 *
 *   GET  /config.json   {"kind":"hub","wsPath":"/hub","version":...}
 *   GET  /...           the renderer's files (dist/renderer), strict CSP
 *   WS   /hub[?panel=chart&window=<id>]   one window's Port to the hub
 *
 * Safety: it listens on 127.0.0.1 by default; the WebSocket accepts only same-origin pages (a foreign web
 * page in the same browser cannot drive the local hub) and the Host header must name this host (no DNS
 * rebinding).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { PanelKindSchema, WindowIdSchema } from '../../../engine/protocol/index.js';
import type { CredentialStore } from '../credentials/store.js';
import { startDesktopCore, type DesktopCore } from '../core.js';
import { SECURITY_HEADERS, strictCsp } from '../security/csp.js';
import { wsFlow, wsPort } from '../ws-port.js';
import { hasIndex, resolveStatic } from '../../../engine/host/static.js';

export interface HeadlessHostOptions {
  /** The user-data folder: venue.sqlite, profiles.json, links.json. */
  userDataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The renderer's build. Default dist/renderer under the current directory. */
  rendererDir?: string;
  /** Simulated market seed (a new local venue only). */
  seed?: number;
  /** Simulated market speed (1 = real time). */
  speed?: number;
  /** Where a new simulated market starts (DesktopCoreOptions.simStart; tests). */
  simStart?: number;
  /** Secrets: default keytar if a keyring answers, otherwise memory only (nothing persisted). */
  credentials?: CredentialStore;
  /** How long a connect waits to read a firm profile's stored session (DesktopCoreOptions.resumeTimeoutMs; tests). */
  resumeTimeoutMs?: number;
  /** Logs one line per event (default: nothing). */
  log?(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

export interface HeadlessHost {
  /** http://host:port/ */
  readonly url: string;
  readonly port: number;
  readonly core: DesktopCore;
  close(): Promise<void>;
}

const MAX_FRAME = 1024 * 1024;

export async function startHeadlessHost(o: HeadlessHostOptions): Promise<HeadlessHost> {
  const rendererDir = o.rendererDir ?? 'dist/renderer';
  const hostName = o.host ?? '127.0.0.1';
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65_535))
    throw new RangeError(`The port must be a whole number from 0 to 65535 (got ${o.port})`);
  const core = await startDesktopCore({
    userDataDir: o.userDataDir,
    host: 'headless',
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.speed !== undefined ? { speed: o.speed } : {}),
    ...(o.simStart !== undefined ? { simStart: o.simStart } : {}),
    ...(o.resumeTimeoutMs !== undefined ? { resumeTimeoutMs: o.resumeTimeoutMs } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  let port = 0;
  let csp = strictCsp();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, perMessageDeflate: false });
  const allowedHosts = (): Set<string> => new Set([`${hostName}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);

  const server = createServer((req, res) => {
    try {
      handleHttp(req, res);
    } catch (e) {
      o.log?.('error', 'request failed', { err: String(e) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });

  const handleHttp = (req: IncomingMessage, res: ServerResponse): void => {
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('Misdirected request');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/config.json') {
      const body = JSON.stringify({ kind: 'hub', wsPath: '/hub', version: core.version });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (url.pathname === '/health') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ ok: true, status: core.hub.status.state }));
      return;
    }
    const f = resolveStatic(rendererDir, url.pathname);
    if (f === undefined) {
      const body = hasIndex(rendererDir) ? 'Not found' : `Not found. The renderer is not built: run \`npm run build:renderer\` (looked in ${rendererDir}).`;
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(body);
      return;
    }
    res.writeHead(200, {
      'Content-Type': f.type,
      'Content-Length': f.size,
      'Content-Security-Policy': csp,
      'Cache-Control': f.type.startsWith('text/html') ? 'no-cache' : 'public, max-age=3600',
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(f.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/hub') return refuse(404, 'Not Found');
    const host = req.headers.host ?? '';
    if (!allowedHosts().has(host)) return refuse(421, 'Misdirected Request');
    const origin = req.headers.origin;
    // Browsers always send Origin: only our own pages may connect. Native tools (tests, scripts) send none.
    if (origin !== undefined && !allowedHosts().has(originHost(origin))) return refuse(403, 'Forbidden');
    const panel = PanelKindSchema.safeParse(url.searchParams.get('panel') ?? 'workspace');
    if (!panel.success) return refuse(400, 'Bad Request');
    const wantedId = url.searchParams.get('window');
    const windowId = wantedId !== null && WindowIdSchema.safeParse(wantedId).success ? wantedId : randomUUID();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      try {
        core.hub.attach(wsPort(ws), { windowId, panel: panel.data }, { flow: wsFlow(ws) });
      } catch {
        ws.close(1001, 'shutting down');
      }
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, hostName, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    // (the port is taken, the address is not this machine's): the venue is closed again, so the folder can
    // be opened by the next start
    wss.close();
    await core.close();
    throw e;
  }
  port = (server.address() as AddressInfo).port;
  const display = hostName.includes(':') ? `[${hostName}]` : hostName;
  const url = `http://${display}:${port}/`;
  csp = strictCsp({ connect: [`ws://${display}:${port}`, `ws://localhost:${port}`] });
  o.log?.('info', 'headless host listening', { url });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    core,
    close() {
      closing ??= (async () => {
        for (const c of wss.clients) c.close(1001, 'shutting down');
        await core.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        wss.close();
      })();
      return closing;
    },
  };
}

function originHost(origin: string): string {
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host : '';
  } catch {
    return '';
  }
}
