/**
 * The security pieces with fake Electron events: the webPreferences factory, navigation / window.open /
 * permission / network handlers, the IPC guard (foreign frames and bad payloads refused, nothing thrown),
 * the MessagePort adapter, and the CSP.
 */
import { describe, expect, it, vi } from 'vitest';
import { ProtocolClient } from '../../engine/protocol/index.js';
import { messagePortMainPort } from '../src/message-port.js';
import { strictCsp } from '../src/security/csp.js';
import {
  blockRequest,
  denyWebview,
  guardNavigation,
  makeRequestFilter,
  makeWindowOpenHandler,
  parsePopOutUrl,
  permissionCheckHandler,
  permissionRequestHandler,
  type PopOutRequest,
} from '../src/security/handlers.js';
import { CONNECT_CHANNEL, ConnectPayloadSchema, guardIpc, type IpcEventLike, type IpcFrameLike } from '../src/security/ipc.js';
import { APP_ENTRY, isAppUrl, webPreferences, windowUrl } from '../src/security/web-preferences.js';
import { FakeMessagePortMain } from './electron-fake.js';
import { hubFixture } from './fixtures.js';

describe('webPreferences factory', () => {
  it('isolates, sandboxes and strips Node from every window', () => {
    const p = webPreferences({ preload: '/app/dist/preload/preload.cjs', version: '1.2.3' });
    expect(p).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: false,
      additionalArguments: ['--tradedesk-version=1.2.3'],
    });
    expect(p).not.toHaveProperty('enableBlinkFeatures');
    expect(p).not.toHaveProperty('partition');
    expect(webPreferences({ preload: 'x', devTools: true }).devTools).toBe(true);
    // nothing can be smuggled into the version argument
    expect(webPreferences({ preload: 'x', version: '1.0 --no-sandbox' }).additionalArguments).toEqual(['--tradedesk-version=1.0--no-sandbox']);
  });

  it('knows its own pages', () => {
    expect(isAppUrl(windowUrl('main'))).toBe(true);
    expect(windowUrl('chart-1')).toBe(`${APP_ENTRY}?window=chart-1`);
    for (const u of ['https://app', 'tradedesk://evil/index.html', 'tradedesk://user:pw@app/', 'file:///etc/passwd', 'javascript:alert(1)', '', 'not a url']) {
      expect(isAppUrl(u)).toBe(false);
    }
  });
});

const fakeEvent = () => {
  const e = { prevented: false, preventDefault: () => void (e.prevented = true) };
  return e;
};

describe('navigation, window.open, webview, permissions, network', () => {
  it('navigation is allowed only within our pages', () => {
    for (const url of ['https://evil.example/', 'http://127.0.0.1:8787/', 'file:///etc/passwd', 'tradedesk://other/', 'data:text/html,hi', '%%%']) {
      const e = fakeEvent();
      expect(guardNavigation(e, url)).toBe(false);
      expect(e.prevented).toBe(true);
    }
    const ok = fakeEvent();
    expect(guardNavigation(ok, windowUrl('main'))).toBe(true);
    expect(ok.prevented).toBe(false);
  });

  it('window.open is always denied; our own pop-out URLs become managed windows', () => {
    const opened: PopOutRequest[] = [];
    const handler = makeWindowOpenHandler((r) => opened.push(r));
    expect(handler({ url: `${APP_ENTRY}?panel=chart&symbol=ACME&levels=10` })).toEqual({ action: 'deny' });
    expect(opened).toEqual([{ panel: 'chart', params: { symbol: 'ACME', levels: '10' } }]);
    for (const url of [
      'https://evil.example/?panel=chart',
      `${APP_ENTRY}?panel=workspace`,
      `${APP_ENTRY}?panel=shell`,
      `${APP_ENTRY}`,
      `${APP_ENTRY}?panel=chart&${'x'.repeat(40)}=1`,
      'tradedesk://app/other.html?panel=chart',
    ]) {
      expect(handler({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toHaveLength(1);
    // a failing opener or a garbage event still denies, without throwing
    const throwing = makeWindowOpenHandler(() => {
      throw new Error('boom');
    });
    expect(throwing({ url: `${APP_ENTRY}?panel=ticket` })).toEqual({ action: 'deny' });
    expect(throwing(undefined as never)).toEqual({ action: 'deny' });
    expect(parsePopOutUrl(`${APP_ENTRY}?panel=ladder&symbol=ACME&window=forged`)).toEqual({ panel: 'ladder', params: { symbol: 'ACME' } });
  });

  it('webviews are never attached; every permission is refused', () => {
    const e = fakeEvent();
    denyWebview(e);
    expect(e.prevented).toBe(true);
    for (const perm of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'hid', 'fullscreen']) {
      const cb = vi.fn();
      permissionRequestHandler({}, perm, cb);
      expect(cb).toHaveBeenCalledWith(false);
    }
    expect(permissionCheckHandler()).toBe(false);
    expect(() => permissionRequestHandler({}, 'media', () => {
      throw new Error('x');
    })).not.toThrow();
  });

  it('the renderer reaches only our own scheme (and DevTools in development)', () => {
    expect(blockRequest(`${APP_ENTRY}`)).toBe(false);
    expect(blockRequest('tradedesk://app/assets/index-abc.js')).toBe(false);
    expect(blockRequest('data:image/png;base64,AAAA')).toBe(false);
    for (const u of ['https://evil.example/x.js', 'http://127.0.0.1:8787/api', 'ws://127.0.0.1:1/ws', 'file:///etc/passwd', 'devtools://devtools/x', 'garbage']) {
      expect(blockRequest(u)).toBe(true);
    }
    expect(blockRequest('devtools://devtools/bundled/x', { devTools: true })).toBe(false);
    const cb = vi.fn();
    makeRequestFilter()({ url: 'https://evil.example/' }, cb);
    expect(cb).toHaveBeenCalledWith({ cancel: true });
  });

  it('the CSP allows only our own code and no inline script, eval, plugins or framing', () => {
    const csp = strictCsp();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toMatch(/unsafe|\*/);
    expect(strictCsp({ connect: ['ws://127.0.0.1:5000'] })).toContain("connect-src 'self' ws://127.0.0.1:5000");
  });
});

describe('IPC guard', () => {
  const topFrame = (url: string): IpcFrameLike => ({ url, parent: null });
  const ours = new Map<number, string>([[7, 'main']]);
  const setup = () => {
    const handled: { windowId: string; ports: number }[] = [];
    const refused: string[] = [];
    const listener = guardIpc<typeof ConnectPayloadSchema, IpcEventLike>({
      channel: CONNECT_CHANNEL,
      schema: ConnectPayloadSchema,
      ports: 1,
      windowOf: (id) => ours.get(id),
      handle: (_p, ctx) => void handled.push({ windowId: ctx.windowId, ports: ctx.ports.length }),
      onRefused: (reason) => void refused.push(reason),
    });
    return { listener, handled, refused };
  };
  const good = (): IpcEventLike => {
    const frame = topFrame(windowUrl('main'));
    return { sender: { id: 7, mainFrame: frame }, senderFrame: frame, ports: [{}] };
  };

  it('accepts a valid message from the top frame of one of our windows', () => {
    const { listener, handled, refused } = setup();
    listener(good(), { v: 1 });
    expect(handled).toEqual([{ windowId: 'main', ports: 1 }]);
    expect(refused).toEqual([]);
  });

  it('refuses foreign senders and frames, bad payloads and wrong ports, without throwing', () => {
    const { listener, handled, refused } = setup();
    const iframe: IpcFrameLike = { url: windowUrl('main'), parent: topFrame(windowUrl('main')) };
    const cases: [IpcEventLike, unknown[]][] = [
      [{ ...good(), sender: { id: 99 } }, [{ v: 1 }]], // a webContents that is not one of our windows
      [{ ...good(), senderFrame: iframe }, [{ v: 1 }]], // an iframe inside our window
      [{ sender: { id: 7, mainFrame: topFrame(windowUrl('main')) }, senderFrame: topFrame('https://evil.example/'), ports: [{}] }, [{ v: 1 }]],
      [{ ...good(), senderFrame: topFrame('https://evil.example/') }, [{ v: 1 }]], // not the window's main frame
      (() => {
        const away = topFrame('https://evil.example/'); // our window, navigated away from our pages
        return [{ sender: { id: 7, mainFrame: away }, senderFrame: away, ports: [{}] }, [{ v: 1 }]] as [IpcEventLike, unknown[]];
      })(),
      [{ ...good(), senderFrame: null }, [{ v: 1 }]], // the frame is gone
      [{ ...good(), sender: null }, [{ v: 1 }]],
      [good(), [{ v: 2 }]], // bad payload
      [good(), [{ v: 1, extra: true }]],
      [good(), ['{"v":1}']],
      [good(), []],
      [good(), [{ v: 1 }, 'second']],
      [{ ...good(), ports: [] }, [{ v: 1 }]], // no port
      [{ ...good(), ports: [{}, {}] }, [{ v: 1 }]],
      [null as never, [{ v: 1 }]],
      [{} as never, [{ v: 1 }]],
    ];
    for (const [event, args] of cases) expect(() => listener(event, ...args)).not.toThrow();
    expect(handled).toEqual([]);
    expect(refused).toHaveLength(cases.length);
    expect(refused).toContain('not one of our windows');
    expect(refused).toContain('not the top frame');
    expect(refused).toContain('the frame does not show our pages');
    expect(refused).toContain('invalid payload');
  });

  it('a handler that throws or rejects is reported, not thrown into Electron', async () => {
    const refused: string[] = [];
    const mk = (handle: () => void | Promise<void>) =>
      guardIpc<typeof ConnectPayloadSchema, IpcEventLike>({
        channel: CONNECT_CHANNEL,
        schema: ConnectPayloadSchema,
        ports: 1,
        windowOf: (id) => ours.get(id),
        handle,
        onRefused: (r) => void refused.push(r),
      });
    expect(() => mk(() => {
      throw new Error('sync');
    })(good(), { v: 1 })).not.toThrow();
    mk(() => Promise.reject(new Error('async')))(good(), { v: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(refused).toEqual(['handler failed: Error: sync', 'handler failed: Error: async']);
  });
});

describe('MessagePort adapter (main side of the preload bridge)', () => {
  it('carries a whole hub session, and a close frame reports its code to the other side', async () => {
    const fx = await hubFixture();
    try {
      const [mainEnd, windowEnd] = FakeMessagePortMain.pair();
      fx.hub.attach(messagePortMainPort(mainEnd), { windowId: 'main', panel: 'workspace' });
      const windowSide = messagePortMainPort(windowEnd); // the preload's wrapper speaks the same framing
      const client = new ProtocolClient(windowSide);
      await client.connect({ client: 'bridge-test' });
      expect(await client.call('hub.info')).toMatchObject({ windowId: 'main' });
      expect((await client.call('instruments.list')).length).toBe(2);
      const closed = new Promise((resolve) => client.onClose(resolve));
      fx.hub.close(); // main shuts the session: the window learns why
      expect(await closed).toMatchObject({ code: 1001, reason: 'shutting down' });
    } finally {
      await fx.close();
    }
  });

  it('the renderer going away closes main\'s end', async () => {
    const [mainEnd, windowEnd] = FakeMessagePortMain.pair();
    const port = messagePortMainPort(mainEnd);
    const closed = new Promise((resolve) => port.onClose(resolve));
    windowEnd.close();
    expect(await closed).toEqual({});
    expect(port.closed).toBe(true);
    expect(() => port.send({ late: true })).not.toThrow();
  });
});
