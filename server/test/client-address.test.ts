// Where a request comes from (http/client-address.ts): the socket's peer, or behind trusted proxies the
// address they forwarded. A client can never have the server take an address it wrote itself, and a
// server with no trusted proxy ignores the header: over real HTTP and WebSocket, the audit log, the
// sign-in throttle and the caps per address all use the one address.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { clientAddress, forwardedFor, plainAddress, throttleNetwork, trustedProxies } from '../src/http/client-address.js';
import { api, fund, listInstrument, login, setupAdmin, startServer, createUser, wsClient, PASSWORD } from './helpers.js';

const PROXIES = trustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

describe('the client address', () => {
  it('is the peer, or behind trusted proxies the nearest forwarded address that is not one', () => {
    expect(clientAddress(undefined, '203.0.113.7', PROXIES)).toBe('unknown');
    // no proxies, or an untrusted peer: the header is ignored
    expect(clientAddress('198.51.100.2', '203.0.113.7', undefined)).toBe('198.51.100.2');
    expect(clientAddress('198.51.100.2', '203.0.113.7', PROXIES)).toBe('198.51.100.2');
    // one proxy; two (the nearer one in the subnet); what the client wrote on the left is not taken
    expect(clientAddress('127.0.0.1', '203.0.113.7', PROXIES)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', '203.0.113.7, 10.1.2.3', PROXIES)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', '1.1.1.1, 203.0.113.7, 10.1.2.3', PROXIES)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', ['1.1.1.1', '203.0.113.7'], PROXIES)).toBe('203.0.113.7');
    // all trusted: the left-most; a hop that is not an address stops at the proxy before it
    expect(clientAddress('127.0.0.1', '10.0.0.9, 10.1.2.3', PROXIES)).toBe('10.0.0.9');
    expect(clientAddress('127.0.0.1', '203.0.113.7, nonsense, 10.1.2.3', PROXIES)).toBe('10.1.2.3');
    expect(clientAddress('127.0.0.1', '', PROXIES)).toBe('127.0.0.1');
    // forms: IPv4-mapped, ports, brackets, IPv6 case
    expect(clientAddress('::ffff:127.0.0.1', '[2001:DB8::1]:443', PROXIES)).toBe('2001:db8::1');
    expect(clientAddress('fd12::1', '203.0.113.7:8080', PROXIES)).toBe('203.0.113.7');
    expect(plainAddress('::FFFF:203.0.113.5')).toBe('203.0.113.5');
    expect(plainAddress(' 2001:DB8::A ')).toBe('2001:db8::a');
  });

  it("reads RFC 7239's Forwarded when told to: each element's for=, the same walk from its right end", () => {
    expect(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"')).toEqual(['192.0.2.60', '[2001:db8:cafe::17]:4711']);
    expect(forwardedFor('proto=https, for=unknown, for="_gazonk"; by=10.0.0.1, FOR = 198.51.100.1')).toEqual(['', 'unknown', '_gazonk', '198.51.100.1']);
    const fwd = (peer: string, header: string | string[]) => clientAddress(peer, header, PROXIES, 'forwarded');
    expect(fwd('127.0.0.1', 'for=203.0.113.7;proto=https')).toBe('203.0.113.7');
    expect(fwd('127.0.0.1', 'for=1.1.1.1, for=203.0.113.7, for=10.1.2.3;by=127.0.0.1')).toBe('203.0.113.7');
    expect(fwd('127.0.0.1', ['for=1.1.1.1', 'for="[2001:DB8::1]:443"'])).toBe('2001:db8::1');
    // a hop the proxy would not name (unknown, obfuscated, none) stops at the proxy before it
    expect(fwd('127.0.0.1', 'for=203.0.113.7, for=unknown')).toBe('127.0.0.1');
    expect(fwd('127.0.0.1', 'for=203.0.113.7, for=_hidden, for=10.1.2.3')).toBe('10.1.2.3');
    expect(fwd('127.0.0.1', 'proto=https')).toBe('127.0.0.1');
    // an untrusted peer's header is ignored; X-Forwarded-For's plain list is not read as Forwarded
    expect(fwd('198.51.100.2', 'for=203.0.113.7')).toBe('198.51.100.2');
    expect(fwd('127.0.0.1', '203.0.113.7')).toBe('127.0.0.1');
    // a quote the client left open does not swallow what the proxy appended after it
    expect(fwd('127.0.0.1', 'for="1.1.1.1, for=203.0.113.7')).toBe('203.0.113.7');
  });

  it('never is an address the client wrote past an untrusted hop (property)', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    const untrusted = v4.filter((a) => !a.startsWith('10.') && a !== '127.0.0.1');
    const proxy = fc.oneof(fc.constant('127.0.0.1'), fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => `10.${p.join('.')}`));
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 12 }), v4), { maxLength: 4 }), untrusted, fc.array(proxy, { minLength: 1, maxLength: 4 }), (written, client, chain) => {
        // the client wrote `written`; its address was appended by the first proxy, each proxy's by the next
        const header = [...written, client, ...chain.slice(0, -1)].join(', ');
        expect(clientAddress(chain.at(-1), header, PROXIES)).toBe(client);
        // a peer the server does not trust is the address, whatever the header says
        expect(clientAddress(client, header, PROXIES)).toBe(client);
      }),
      { numRuns: 500, seed: 20261207 },
    );
    // the same with Forwarded: what the client wrote is any text; each proxy appends `, for=<address>`
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), untrusted, fc.array(proxy, { minLength: 1, maxLength: 4 }), fc.boolean(), (written, client, chain, quoted) => {
        const q = (a: string) => (quoted ? `"${a}"` : a);
        const header = [written, ...[client, ...chain.slice(0, -1)].map((a) => `for=${q(a)};proto=https`)].join(', ');
        expect(clientAddress(chain.at(-1), header, PROXIES, 'forwarded')).toBe(client);
        expect(clientAddress(client, header, PROXIES, 'forwarded')).toBe(client);
      }),
      { numRuns: 500, seed: 20261207 },
    );
  });

  it('trusts only addresses and subnets, refused by name at start-up otherwise', () => {
    expect(trustedProxies([])).toBeUndefined();
    for (const bad of ['proxy.example', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', '10.0.0.0/x', '10.0.0.1/'])
      expect(() => loadConfig(['--trusted-proxies', bad], {}), bad).toThrow(`"${bad}" is not an IP address or a subnet (address/bits)`);
    expect(loadConfig(['--trusted-proxies', '127.0.0.1,10.0.0.0/8,::1'], {}).config.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(loadConfig([], { TRADEDESK_TRUSTED_PROXIES: 'fd00::/8' }).config.trustedProxies).toEqual(['fd00::/8']);
    // the header they write: X-Forwarded-For unless told, Forwarded when told, nothing else
    expect(loadConfig([], {}).config.proxyHeader).toBe('x-forwarded-for');
    expect(loadConfig(['--proxy-header', 'forwarded'], {}).config.proxyHeader).toBe('forwarded');
    expect(() => loadConfig(['--proxy-header', 'x-real-ip'], {})).toThrow(/proxyHeader/);
  });

  it('the sign-in throttle counts an IPv6 address as its /64, an IPv4 address as itself', async () => {
    expect(throttleNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleNetwork('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleNetwork('2001:0db8:0000:0000:ffff:1:2:3')).toBe('2001:db8:0:0::/64');
    expect(throttleNetwork('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(throttleNetwork('2001:db8:aa:bb:cc::')).toBe('2001:db8:aa:bb::/64');
    expect(throttleNetwork('::1')).toBe('0:0:0:0::/64');
    expect(throttleNetwork('::')).toBe('0:0:0:0::/64');
    expect(throttleNetwork('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(throttleNetwork('fe80:1:2:3:4:5:6:7')).toBe('fe80:1:2:3::/64');
    const s = await startServer({ trustedProxies: ['127.0.0.1'], auth: { loginFreeFailures: 2 } as never });
    try {
      const admin = await setupAdmin(s);
      await createUser(s, admin, 'vera', 'trader');
      const from = (ip: string, password: string) => api(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password }, headers: { 'X-Forwarded-For': ip } });
      // two failures from two addresses of one /64 lock the /64, not the next one
      expect((await from('2001:db8::1', 'not it')).status).toBe(401);
      expect((await from('2001:db8::2', 'not it')).status).toBe(401);
      expect((await from('2001:db8::ffff:3', PASSWORD)).status).toBe(429);
      expect((await from('2001:db8:0:1::1', PASSWORD)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('over HTTP and WebSocket: behind a trusted proxy the forwarded address is logged, throttled and capped; otherwise the header is ignored', async () => {
    const s = await startServer({ trustedProxies: ['127.0.0.1'], auth: { loginFreeFailures: 2 } as never, ws: { maxPerIp: 2 } as never });
    try {
      const admin = await setupAdmin(s);
      await listInstrument(s, admin);
      const t = await createUser(s, admin, 'tina', 'trader');
      await fund(s, admin, t.user.accountId!);
      const from = (ip: string) => ({ 'X-Forwarded-For': ip });
      // sign-in failures from one address: throttled there, not from another
      for (let i = 0; i < 2; i++) expect((await api(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'tina', password: 'not it' }, headers: from('203.0.113.7') })).status).toBe(401);
      const throttled = await api(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'tina', password: PASSWORD }, headers: from('203.0.113.7') });
      expect(throttled.status).toBe(429);
      expect((await api(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'tina', password: PASSWORD }, headers: from('198.51.100.4') })).status).toBe(200);
      // an order over WebSocket from a forwarded address; the address's cap counts it, not the proxy's
      const a = await wsClient(s, { token: t.accessToken, headers: from('198.51.100.4') });
      await a.client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000, tif: 'gtc' });
      const b = await wsClient(s, { token: t.accessToken, headers: from('198.51.100.4') });
      await expect(wsClient(s, { token: t.accessToken, headers: from('198.51.100.4') })).rejects.toThrow(/429|503|too many/i);
      const c = await wsClient(s, { token: t.accessToken, headers: from('198.51.100.5') });
      for (const x of [a, b, c]) x.client.close();
      const log = (await api(s.url, 'GET', '/api/v1/admin/audit?limit=100', { token: admin.accessToken })).body as { action: string; ip: string; username: string }[];
      expect(log.filter((e) => e.action.startsWith('auth.login_')).map((e) => [e.action, e.ip])).toEqual([
        ['auth.login_throttled', '203.0.113.7'],
        ['auth.login_failed', '203.0.113.7'],
        ['auth.login_failed', '203.0.113.7'],
      ]);
      expect(log.find((e) => e.action === 'order.place')?.ip).toBe('198.51.100.4');
      expect(log.filter((e) => e.action === 'auth.login' && e.username === 'tina').map((e) => e.ip)).toContain('198.51.100.4');
      // read back by address
      const fromThere = (await api(s.url, 'GET', '/api/v1/admin/audit?ip=203.0.113.7', { token: admin.accessToken })).body as { action: string }[];
      expect(fromThere.map((e) => e.action)).toEqual(['auth.login_throttled', 'auth.login_failed', 'auth.login_failed']);
    } finally {
      await s.stop();
    }
    // a proxy that writes Forwarded: its for= is the address, and X-Forwarded-For is the client's word
    const f = await startServer({ trustedProxies: ['127.0.0.1'], proxyHeader: 'forwarded', ws: { maxPerIp: 1 } as never });
    try {
      const admin = await setupAdmin(f);
      const headers = { Forwarded: 'for=1.1.1.1, for="[2001:db8::7]:50123";proto=https;by=127.0.0.1', 'X-Forwarded-For': '203.0.113.7' };
      expect((await api(f.url, 'POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'not it' }, headers })).status).toBe(401);
      // over WebSocket: the cap per address counts the forwarded one
      const from = (ip: string) => ({ token: admin.accessToken, headers: { Forwarded: `for=${ip}`, 'X-Forwarded-For': '203.0.113.7' } });
      const one = await wsClient(f, from('198.51.100.9'));
      await expect(wsClient(f, from('198.51.100.9'))).rejects.toThrow(/429|503|too many/i);
      const other = await wsClient(f, from('198.51.100.10'));
      for (const x of [one, other]) x.client.close();
      const log = (await api(f.url, 'GET', '/api/v1/admin/audit?action=auth.login_failed', { token: admin.accessToken })).body as { ip: string }[];
      expect(log.map((e) => e.ip)).toEqual(['2001:db8::7']);
    } finally {
      await f.stop();
    }
    // no trusted proxy: the header is the client's word, and ignored
    const plain = await startServer();
    try {
      const admin = await setupAdmin(plain);
      expect((await login(plain, 'nobody', 'not it')).status).toBe(401);
      expect((await api(plain.url, 'POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'not it' }, headers: { 'X-Forwarded-For': '203.0.113.7' } })).status).toBe(401);
      const log = (await api(plain.url, 'GET', '/api/v1/admin/audit?action=auth.login_failed', { token: admin.accessToken })).body as { ip: string }[];
      expect(log.map((e) => e.ip)).toEqual(['127.0.0.1', '127.0.0.1']);
    } finally {
      await plain.stop();
    }
  });
});
