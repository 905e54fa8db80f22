/** Shared test helpers: temp folders, a ProtocolClient over a WebSocket to the headless host, waiting. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ProtocolClient, createPortPair, type Port } from '../../engine/protocol/index.js';
import { wsPort } from '../src/ws-port.js';

export function tempDir(prefix = 'tdmain-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens `ws://.../hub` like a browser tab of the host would (with its Origin). */
export async function hubClient(hostUrl: string, query = '', origin: string | undefined = hostUrl.replace(/\/$/, '')): Promise<ProtocolClient> {
  const ws = new WebSocket(`${hostUrl.replace(/^http/, 'ws')}hub${query}`, origin !== undefined ? { origin } : {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client = new ProtocolClient(wsPort(ws), { timeoutMs: 10_000 });
  await client.connect({ client: 'test-window' });
  return client;
}

/** A window of an in-process hub: a client on one end of a serialising in-memory pair, the hub on the other. */
export function windowPair(): { windowPort: Port; hubPort: Port } {
  const [windowPort, hubPort] = createPortPair({ serialize: true });
  return { windowPort, hubPort };
}

/** Resolves when `pred()` becomes true (checked on every macrotask turn), or rejects after `ms`. */
export async function until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Collects a stream's pushes; `next(pred)` waits for the first (new) one matching. */
export class Inbox<T> {
  readonly items: T[] = [];
  readonly errors: { code: string }[] = [];
  resubscribed = 0;
  push = (d: T): void => {
    this.items.push(d);
  };
  error = (e: { code: string }): void => {
    this.errors.push(e);
  };
  onResubscribed = (): void => {
    this.resubscribed++;
  };
  #cursor = 0;
  /** The first push after the previous `next` that matches (waiting for it if needed). */
  async next(pred: (d: T) => boolean = () => true, ms = 10_000): Promise<T> {
    let found: T | undefined;
    await until(
      () => {
        for (; this.#cursor < this.items.length; this.#cursor++) {
          const d = this.items[this.#cursor]!;
          if (pred(d)) {
            this.#cursor++;
            found = d;
            return true;
          }
        }
        return false;
      },
      ms,
      'a push',
    );
    return found!;
  }
  /** Skips everything received so far. */
  skip(): void {
    this.#cursor = this.items.length;
  }
  async any(pred: (d: T) => boolean = () => true, ms = 10_000): Promise<T> {
    let found: T | undefined;
    await until(() => (found = this.items.find(pred)) !== undefined, ms, 'a push');
    return found!;
  }
}
