/**
 * The hub with several windows over a real local venue: routing, stream sharing, link groups, status,
 * window readiness, profiles and keychain methods.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPortPair, type Links, type Quote } from '../../engine/protocol/index.js';
import { MemoryStore } from '../src/credentials/store.js';
import { LinkGroups } from '../src/links.js';
import { ProfileStore } from '../src/profiles.js';
import { readyGatedPort } from '../src/hub/ready-port.js';
import type { FirmConnector, FirmSession } from '../src/hub/hub.js';
import { hubFixture, type HubFixture } from './fixtures.js';
import { Inbox, until } from './helpers.js';

let fx: HubFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const bid = (price: number) => ({ symbol: 'ACME', side: 'buy' as const, orderType: 'limit' as const, qty: 10, price, tif: 'day' as const });

describe('hub: routing and multiplexing', () => {
  it('each window is its own session; exchange calls reach the active upstream as the local user', async () => {
    fx = await hubFixture();
    const a = await fx.window({ windowId: 'main', panel: 'workspace' });
    const b = await fx.window({ windowId: 'pop-1', panel: 'chart', params: { symbol: 'ACME' } });
    expect(await a.call('hub.info')).toEqual({ windowId: 'main', panel: 'workspace', params: {}, host: 'electron', version: '9.9.9' });
    expect(await b.call('hub.info')).toMatchObject({ windowId: 'pop-1', panel: 'chart', params: { symbol: 'ACME' } });
    expect(a.session).toMatchObject({ accountId: 1, role: 'trader' });
    expect((await a.call('instruments.list')).map((i) => i.symbol).sort()).toEqual(['ACME', 'LOCL']);
    const placed = await a.call('order.place', bid(19_000));
    // B sees A's order: same user, same venue
    expect((await b.call('order.get', { orderId: placed.orderId })).orderId).toBe(placed.orderId);
    // errors come back with their codes; admin methods are refused for the local trader
    await expect(b.call('quote.get', { symbol: 'NOPE' })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    await expect(b.call('admin.account.fund', { accountId: 1, amount: 5 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(fx.hub.windowSessions).toBe(2);
  });

  it('identical subscriptions from several windows share one upstream stream; a late joiner starts with the current value', async () => {
    fx = await hubFixture();
    const [a, b, c] = [await fx.window(), await fx.window(), await fx.window()];
    const qa = new Inbox<Quote>();
    const qb = new Inbox<Quote>();
    await a.subscribe('quotes', { symbols: ['ACME'] }, { data: qa.push });
    const subB = await b.subscribe('quotes', { symbols: ['ACME'] }, { data: qb.push });
    expect(fx.hub.streamStats()).toEqual({ groups: 1, windowStreams: 2, upstreamSubscriptions: 1 });
    expect((await qa.next()).bid).toBeNull();
    expect((await qb.next()).bid).toBeNull(); // replayed from the shared stream, not a second upstream one

    await a.call('order.place', bid(19_500));
    expect((await qa.next((q) => q.bid === 19_500)).bidSize).toBe(10);
    await qb.next((q) => q.bid === 19_500);

    // a pop-out opening later gets the current quote at once
    const qc = new Inbox<Quote>();
    await c.subscribe('quotes', { symbols: ['ACME'] }, { data: qc.push });
    expect((await qc.next()).bid).toBe(19_500);
    expect(fx.hub.streamStats()).toEqual({ groups: 1, windowStreams: 3, upstreamSubscriptions: 1 });

    // different parameters are a different stream
    await c.subscribe('depth', { symbol: 'ACME' }, { data: () => undefined });
    await a.subscribe('depth', { symbol: 'ACME', levels: 10 }, { data: () => undefined }); // same after defaults
    expect(fx.hub.streamStats()).toEqual({ groups: 2, windowStreams: 5, upstreamSubscriptions: 2 });

    await subB.unsubscribe();
    await until(() => fx!.hub.streamStats().windowStreams === 4, 5000, 'unsubscribe');
    // closing a window ends its streams; the last one out ends the upstream stream
    c.close();
    await until(() => fx!.hub.streamStats().windowStreams === 2, 5000, 'window close');
    a.close();
    await until(() => fx!.hub.streamStats().upstreamSubscriptions === 0, 5000, 'upstream unsubscribe');
  });

  it('private streams are shared too and every window sees every event', async () => {
    fx = await hubFixture();
    const [a, b] = [await fx.window(), await fx.window()];
    const oa = new Inbox<{ orderId: number; status: string }>();
    const ob = new Inbox<{ orderId: number; status: string }>();
    await a.subscribe('orders', {}, { data: oa.push });
    await b.subscribe('orders', {}, { data: ob.push });
    const o = await b.call('order.place', bid(18_000));
    await oa.next((r) => r.orderId === o.orderId);
    await ob.next((r) => r.orderId === o.orderId);
    await a.call('order.cancel', { orderId: o.orderId });
    await oa.next((r) => r.orderId === o.orderId && r.status === 'canceled');
    await ob.next((r) => r.orderId === o.orderId && r.status === 'canceled');
    expect(fx.hub.streamStats().upstreamSubscriptions).toBe(1);
  });

  it('every method and channel of the table is forwarded, including ones added later (price alerts)', async () => {
    fx = await hubFixture();
    const [a, b] = [await fx.window(), await fx.window()];
    const alerts = new Inbox<{ id: number; status: string }>();
    await b.subscribe('alerts', {}, { data: alerts.push });
    const created = await a.call('alerts.create', { symbol: 'ACME', direction: 'above', price: 21_000 });
    expect((await alerts.next((x) => x.id === created.id)).status).toBe('armed');
    expect((await b.call('alerts.list')).map((x) => x.id)).toContain(created.id);
  });

  it('a refused subscription is refused for the window that asked, and does not linger', async () => {
    fx = await hubFixture();
    const a = await fx.window();
    await expect(a.subscribe('quotes', { symbols: ['NOPE'] }, { data: () => undefined })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    await expect(a.subscribe('quotes', { symbols: [] }, { data: () => undefined })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(fx.hub.streamStats()).toEqual({ groups: 0, windowStreams: 0, upstreamSubscriptions: 0 });
  });
});

describe('hub: link groups and status', () => {
  it('a link change reaches every window; a window opened later starts with the current groups; they persist', async () => {
    fx = await hubFixture();
    const [a, b] = [await fx.window(), await fx.window()];
    const la = new Inbox<Links>();
    const lb = new Inbox<Links>();
    await a.subscribe('hub.links', {}, { data: la.push });
    await b.subscribe('hub.links', {}, { data: lb.push });
    expect(await la.next()).toEqual({ groups: {} });
    await a.call('hub.link.set', { group: 'red', symbol: 'ACME' });
    expect(await lb.next((l) => l.groups.red !== undefined)).toEqual({ groups: { red: { symbol: 'ACME' } } });
    await b.call('hub.link.set', { group: 'red', timeframe: '5m' });
    expect(await la.next((l) => l.groups.red?.timeframe === '5m')).toEqual({ groups: { red: { symbol: 'ACME', timeframe: '5m' } } });
    await b.call('hub.link.set', { group: 'blue', symbol: 'LOCL' });

    const c = await fx.window({ panel: 'ladder' });
    const lc = new Inbox<Links>();
    await c.subscribe('hub.links', {}, { data: lc.push });
    expect(await lc.next()).toEqual({ groups: { red: { symbol: 'ACME', timeframe: '5m' }, blue: { symbol: 'LOCL' } } });
    await expect(c.call('hub.link.set', { group: 'pink' as never, symbol: 'ACME' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    // a restart keeps the groups
    expect(new LinkGroups(`${fx.dir}/links.json`).get()).toEqual({ groups: { red: { symbol: 'ACME', timeframe: '5m' }, blue: { symbol: 'LOCL' } } });
  });

  it('hub.status starts with the current state: connected to the local simulation', async () => {
    fx = await hubFixture();
    const a = await fx.window();
    const s = new Inbox<{ state: string }>();
    await a.subscribe('hub.status', {}, { data: s.push });
    expect(await s.next()).toMatchObject({ state: 'connected', mode: 'local', profileId: 'local', profileName: 'Local simulation', accountId: 1, role: 'trader' });
  });
});

describe('hub: windows are served only once they are ready', () => {
  it('a ready-gated port holds messages until the window sends its first message, then delivers them in order', async () => {
    const [windowEnd, mainEnd] = createPortPair();
    const gated = readyGatedPort(mainEnd);
    const got: unknown[] = [];
    windowEnd.onMessage((m) => got.push(m));
    gated.send({ n: 1 });
    gated.send({ n: 2 });
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([]);
    expect(gated.queued).toBe(2);
    const seen: unknown[] = [];
    gated.onMessage((m) => seen.push(m));
    windowEnd.send({ t: 'hello' });
    await until(() => got.length === 2, 2000, 'flush');
    gated.send({ n: 3 });
    await until(() => got.length === 3, 2000, 'live send');
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(seen).toEqual([{ t: 'hello' }]);
    expect(gated.ready).toBe(true);
  });

  it('a window that never becomes ready cannot grow main without bound', () => {
    const [, mainEnd] = createPortPair();
    const gated = readyGatedPort(mainEnd, { maxQueued: 3 });
    for (let i = 0; i < 4; i++) gated.send({ i });
    expect(gated.closed).toBe(true);
    expect(gated.queued).toBe(0);
  });

  it('a pop-out attached late gets its welcome only after its hello, then the current status and links', async () => {
    fx = await hubFixture();
    await (await fx.window()).call('hub.link.set', { group: 'green', symbol: 'LOCL' });
    const [windowEnd, hubEnd] = createPortPair({ serialize: true });
    fx.hub.attach(hubEnd, { windowId: 'late', panel: 'ticket' });
    const got: { t: string }[] = [];
    await new Promise((r) => setTimeout(r, 20)); // the pop-out is still loading its code
    windowEnd.onMessage((m) => got.push(m as { t: string }));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([]);
    windowEnd.send({ t: 'hello', v: 1, client: 'popout' });
    windowEnd.send({ t: 'sub', id: 1, channel: 'hub.links', params: {} });
    await until(() => got.length >= 3, 2000, 'welcome, res, push');
    expect(got.map((m) => m.t)).toEqual(['welcome', 'res', 'push']);
    expect(got[2]).toMatchObject({ data: { groups: { green: { symbol: 'LOCL' } } } });
  });
});

describe('hub: profiles and keychain', () => {
  it('saves firm profiles without secrets, stores API keys in the credential store and never returns them', async () => {
    fx = await hubFixture();
    const a = await fx.window();
    const p = await a.call('hub.profiles.save', { name: 'Acme Capital', url: 'https://desk.acme.example/', username: 'alice' });
    expect(p).toMatchObject({ kind: 'firm', name: 'Acme Capital', url: 'https://desk.acme.example', username: 'alice', signedIn: false, hasApiKey: false });
    expect(p.id).toMatch(/^acme-capital-[0-9a-f]{6}$/);
    await a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'canary-api-key-123' });
    expect(await a.call('hub.credentials.has', { profileId: p.id, kind: 'apiKey' })).toEqual({ present: true });
    const list = await a.call('hub.profiles.list');
    expect(list.activeId).toBe('local');
    expect(list.profiles.map((x) => x.id)).toEqual(['local', p.id]);
    expect(list.profiles[1]).toMatchObject({ hasApiKey: true, signedIn: false });
    expect(JSON.stringify(list)).not.toContain('canary');
    expect(await fx.credentials.get(`${p.id}/apiKey`)).toBe('canary-api-key-123');
    // a restart reads the profile back
    expect(new ProfileStore(`${fx.dir}/profiles.json`).get(p.id)).toMatchObject({ name: 'Acme Capital', username: 'alice' });

    await expect(a.call('hub.credentials.set', { profileId: 'nope', kind: 'apiKey', secret: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(a.call('hub.credentials.set', { profileId: 'local', kind: 'apiKey', secret: 'x' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // as large as every keychain holds (Windows' Credential Manager: 2,560 bytes), counted in UTF-8 bytes
    await a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'é'.repeat(1280) });
    expect(await fx.credentials.get(`${p.id}/apiKey`)).toBe('é'.repeat(1280));
    await expect(a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'é'.repeat(1280) + 'x' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      details: { issues: [expect.objectContaining({ message: expect.stringContaining('At most 2560 bytes in UTF-8') })] },
    });
    expect(await fx.credentials.get(`${p.id}/apiKey`)).toBe('é'.repeat(1280));
    await expect(a.call('hub.profiles.save', { name: 'x', url: 'https://u:p@host.example' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(a.call('hub.profiles.save', { id: 'local', name: 'x', url: 'https://host.example' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(a.call('hub.profiles.delete', { id: 'local' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    await a.call('hub.credentials.delete', { profileId: p.id, kind: 'apiKey' });
    expect(await a.call('hub.credentials.has', { profileId: p.id, kind: 'apiKey' })).toEqual({ present: false });
    await a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'again' });
    await a.call('hub.profiles.delete', { id: p.id });
    expect(await fx.credentials.accounts()).toEqual([]); // deleting a profile deletes its secrets
  });

  it('plain http only to this machine; a profile moved to another server keeps none of its secrets', async () => {
    fx = await hubFixture();
    const a = await fx.window();
    for (const url of ['http://192.0.2.2:8787', 'http://desk.acme.example', 'http://127.0.0.1.evil.example', 'http://localhost.example'])
      await expect(a.call('hub.profiles.save', { name: 'x', url }), url).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        details: { issues: [expect.objectContaining({ message: expect.stringContaining('https://') })] },
      });
    for (const url of ['http://localhost:8787', 'http://127.0.0.1:9', 'http://[::1]:8787/', 'http://LocalHost', 'https://desk.acme.example']) {
      const p = await a.call('hub.profiles.save', { name: 'ok', url });
      await a.call('hub.profiles.delete', { id: p.id });
    }
    const p = await a.call('hub.profiles.save', { name: 'Acme', url: 'https://desk.acme.example/desk' });
    const secrets = async () => [await fx!.credentials.get(`${p.id}/refreshToken`), await fx!.credentials.get(`${p.id}/apiKey`)];
    await fx.credentials.set(`${p.id}/refreshToken`, 'issued-by-acme');
    await a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'acme-key' });
    // the same server (another path, a new name): kept
    await a.call('hub.profiles.save', { id: p.id, name: 'Acme desk', url: 'https://desk.acme.example/' });
    expect(await secrets()).toEqual(['issued-by-acme', 'acme-key']);
    // another server: gone, so the next connect sends the new one nothing of the old
    const moved = await a.call('hub.profiles.save', { id: p.id, name: 'Acme desk', url: 'https://other.example' });
    expect(moved).toMatchObject({ url: 'https://other.example', signedIn: false, hasApiKey: false });
    expect(await secrets()).toEqual([undefined, undefined]);
    // not while it is the connection in use
    await a.call('hub.connect', { profileId: p.id });
    await expect(a.call('hub.profiles.save', { id: p.id, name: 'Acme desk', url: 'https://third.example' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(fx.profiles.get(p.id)?.url).toBe('https://other.example');
  });

  it('a profile saved with plain http to another machine before it was refused is kept, and not connected to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'td-hub-profiles-'));
    try {
      writeFileSync(join(dir, 'profiles.json'), JSON.stringify({ activeId: 'local', profiles: [{ id: 'lan-1', name: 'LAN', url: 'http://192.0.2.2:8787' }, { id: 'ok-1', name: 'OK', url: 'https://desk.acme.example' }] }));
      fx = await hubFixture({ dir, firm: { resume: () => Promise.reject(new Error('must not be asked')), login: () => Promise.reject(new Error('must not be asked')) } as never });
      const a = await fx.window();
      expect((await a.call('hub.profiles.list')).profiles.map((x) => x.id)).toEqual(['local', 'lan-1', 'ok-1']);
      expect(await a.call('hub.connect', { profileId: 'lan-1' })).toMatchObject({ profileId: 'lan-1', error: { code: 'BAD_REQUEST', message: expect.stringContaining('edit the profile') } });
      await expect(a.call('hub.login', { profileId: 'lan-1', username: 'alice', password: 'secret passphrase' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await a.call('hub.connect', { profileId: 'local' });
      await fx.close();
      fx = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a profile whose secrets the keychain cannot delete is kept (UNAVAILABLE, said so), and deleted with them once it can', async () => {
    /** A keychain the user locked: reads work, deletes are refused. */
    class LockedKeychain extends MemoryStore {
      locked = false;
      override async delete(account: string): Promise<boolean> {
        if (this.locked) throw new Error('The keyring is locked');
        return super.delete(account);
      }
    }
    const keychain = new LockedKeychain();
    fx = await hubFixture({ credentials: keychain });
    const a = await fx.window();
    const p = await a.call('hub.profiles.save', { name: 'Firm', url: 'https://firm.example' });
    await a.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: 'firm-api-key' });
    keychain.locked = true;
    await expect(a.call('hub.profiles.delete', { id: p.id })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('The keyring is locked') });
    expect((await a.call('hub.profiles.list')).profiles.map((x) => x.id)).toEqual(['local', p.id]);
    // moving it to another server is refused the same way, and leaves it where it was
    await expect(a.call('hub.profiles.save', { id: p.id, name: 'Firm', url: 'https://other.example' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(fx.profiles.get(p.id)?.url).toBe('https://firm.example');
    keychain.locked = false;
    await a.call('hub.profiles.delete', { id: p.id });
    expect((await a.call('hub.profiles.list')).profiles.map((x) => x.id)).toEqual(['local']);
    expect(await keychain.accounts()).toEqual([]);
  });

  it("a connect whose stored session cannot be read (a keychain that never answers) gives up after resumeTimeoutMs; the profile's edits and deletes then go ahead", async () => {
    let resumes = 0;
    let closedLate = 0;
    let answer: ((f: FirmSession) => void) | undefined;
    const firm: FirmConnector = {
      resume: () => {
        resumes++;
        return new Promise<FirmSession>((r) => (answer = r)); // a keychain waiting on an unlock prompt
      },
      login: () => new Promise<FirmSession>(() => undefined),
    };
    fx = await hubFixture({ firm, hub: { resumeTimeoutMs: 300 } });
    const a = await fx.window();
    const p = await a.call('hub.profiles.save', { name: 'Firm', url: 'https://firm.example' });
    const connecting = a.call('hub.connect', { profileId: p.id });
    await until(() => resumes === 1, 2000, 'the resume began');
    await a.call('hub.connect', { profileId: 'local' }); // the user goes back to the local market
    // the edit waits for the connect, which gives up in time
    expect(await a.call('hub.profiles.save', { id: p.id, name: 'Renamed', url: 'https://firm.example' })).toMatchObject({ name: 'Renamed' });
    await connecting;
    // a session the keychain hands over after all is closed, not used
    answer!({ close: () => void closedLate++ } as unknown as FirmSession);
    await until(() => closedLate === 1, 2000, 'the late session closed');
    // a connect that gives up says why
    const again = await a.call('hub.connect', { profileId: p.id });
    expect(again).toMatchObject({ profileId: p.id, error: { code: 'UNAVAILABLE', message: expect.stringContaining('could not be read within') } });
    await a.call('hub.connect', { profileId: 'local' });
    await a.call('hub.profiles.delete', { id: p.id });
    expect((await a.call('hub.profiles.list')).profiles.map((x) => x.id)).toEqual(['local']);
  });

  it('without a firm connector a firm profile is offline, and exchange calls say so', async () => {
    fx = await hubFixture();
    const a = await fx.window();
    const p = await a.call('hub.profiles.save', { name: 'Firm', url: 'http://127.0.0.1:9' });
    const st = await a.call('hub.connect', { profileId: p.id });
    expect(st).toMatchObject({ state: 'offline', mode: 'firm', profileId: p.id });
    await expect(a.call('instruments.list')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(a.call('hub.profiles.delete', { id: p.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await a.call('hub.connect', { profileId: 'local' })).toMatchObject({ state: 'connected', mode: 'local' });
    expect((await a.call('instruments.list')).length).toBe(2);
  });
});
