/**
 * The preload, bundled as it ships (CommonJS) with `electron` replaced by a recording stand-in, run under
 * Node (whose MessageChannel is the same web API): it exposes `window.tradedesk` and nothing else, and a
 * `connect()` port carries a real hub session through main's MessagePort adapter, closes included.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { MessagePort as NodeMessagePort } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradeDeskBridge } from '../../engine/protocol/bridge.js';
import { ProtocolClient, type CloseInfo, type Port } from '../../engine/protocol/index.js';
import { messagePortMainPort, type MessagePortMainLike } from '../src/message-port.js';
import { hubFixture, type HubFixture } from './fixtures.js';
import { until } from './helpers.js';

/** What a renderer would write: a protocol Port over the bridge's port. */
function bridgePort(b: ReturnType<TradeDeskBridge['connect']>): Port {
  let closed = false;
  b.onClose(() => (closed = true));
  return {
    get closed() {
      return closed;
    },
    send: (m) => b.send(m),
    onMessage: (cb) => b.onMessage(cb),
    onClose: (cb: (i: CloseInfo) => void) => b.onClose(cb),
    close: (code, reason) => {
      closed = true;
      b.close(code, reason);
    },
  };
}

/** Main receives a web MessagePort in Node; Electron gives MessagePortMain: same shape after this. */
function asMain(p: NodeMessagePort): MessagePortMainLike {
  return {
    postMessage: (m) => p.postMessage(m),
    on: ((event: 'message' | 'close', cb: (e?: { data: unknown }) => void) =>
      event === 'message' ? p.on('message', (data: unknown) => cb({ data })) : p.on('close', () => cb())) as MessagePortMainLike['on'],
    start: () => p.start(),
    close: () => p.close(),
  };
}

describe('preload bridge', () => {
  const out = resolve('.vitest', `preload-${process.pid}`);
  let fake: { exposed: Record<string, unknown>; sent: { channel: string; message: unknown; transfer: unknown[] }[] };
  let fx: HubFixture;
  let bridge: TradeDeskBridge;

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: { preload: 'preload/preload.ts' },
      outdir: out,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      alias: { electron: resolve('main/test/electron-preload-fake.ts') },
      logLevel: 'silent',
    });
    const argv = process.argv;
    process.argv = [...argv, '--tradedesk-version=7.8.9'];
    try {
      createRequire(import.meta.url)(join(out, 'preload.cjs'));
    } finally {
      process.argv = argv;
    }
    fake = (globalThis as unknown as { __preloadFake: typeof fake }).__preloadFake;
    bridge = fake.exposed.tradedesk as TradeDeskBridge;
    fx = await hubFixture();
  });
  afterAll(async () => {
    await fx?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('exposes only window.tradedesk: connect, platform, version (no ipcRenderer, no Node)', () => {
    expect(Object.keys(fake.exposed)).toEqual(['tradedesk']);
    expect(Object.keys(bridge).sort()).toEqual(['connect', 'platform', 'version']);
    expect(bridge.platform).toBe(process.platform);
    expect(bridge.version).toBe('7.8.9');
    expect(typeof bridge.connect).toBe('function');
  });

  it('connect() hands main one port over the single IPC message and carries a hub session', async () => {
    const b = bridge.connect();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ channel: 'tradedesk:connect', message: { v: 1 } });
    expect(fake.sent[0]!.transfer).toHaveLength(1);
    fx.hub.attach(messagePortMainPort(asMain(fake.sent[0]!.transfer[0] as NodeMessagePort)), { windowId: 'main', panel: 'workspace' });
    const client = new ProtocolClient(bridgePort(b), { timeoutMs: 10_000 });
    await client.connect({ client: 'renderer' });
    expect(await client.call('hub.info')).toMatchObject({ windowId: 'main', host: 'electron' });
    expect((await client.call('instruments.list')).length).toBe(2);
    // the renderer closes: main's session ends
    const sessions = fx.hub.windowSessions;
    client.close(1000, 'window closed');
    await until(() => fx.hub.windowSessions === sessions - 1, 5000, 'the session to end');
  });

  it('main closing the session reaches the renderer with its code and reason', async () => {
    const b = bridge.connect();
    const port = fake.sent.at(-1)!.transfer[0] as NodeMessagePort;
    const handle = fx.hub.attach(messagePortMainPort(asMain(port)), { windowId: 'w2', panel: 'chart' });
    const client = new ProtocolClient(bridgePort(b), { timeoutMs: 10_000 });
    await client.connect({ client: 'renderer' });
    const closed = new Promise<CloseInfo>((resolve) => b.onClose(resolve));
    handle.close(1001, 'app quitting');
    expect(await closed).toEqual({ code: 1001, reason: 'app quitting' });
    expect(() => b.send({ late: true })).not.toThrow();
  });
});
