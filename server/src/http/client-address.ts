/**
 * Where a request comes from. The audit log's "from where", the sign-in throttle (per account and address)
 * and the WebSocket caps per address all use it. Behind a reverse proxy (the README's deployment) every
 * socket's peer is the proxy, so with `trustedProxies` set, a request from one of them is taken to come
 * from the address the proxy put in `X-Forwarded-For`. Proxies append the address they received the request
 * from, so the header is read from its right end, past each trusted proxy, to the first address that is not
 * one: what a client wrote on the left of it itself is never taken. From a peer that is not trusted, the
 * header is ignored. A proxy that writes the standard `Forwarded` header (RFC 7239) instead is read the same
 * way, from the `for=` of each element, when the server is told so (`proxyHeader`): only the header the
 * proxies write may be read, since they pass the other on as the client wrote it.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { auditAddress } from '../../../engine/protocol/index.js';

/**
 * An address as it is logged and compared: an IPv4-mapped IPv6 one as IPv4 ("::ffff:203.0.113.5" is
 * "203.0.113.5"), IPv6 in lower case; a forwarded one may carry brackets and a port ("[2001:db8::1]:443",
 * "203.0.113.5:80"), which are dropped.
 */
export function plainAddress(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  if (bracketed !== null) a = bracketed[1]!;
  else {
    const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(a);
    if (v4port !== null) a = v4port[1]!;
  }
  // the form the audit log's address filter reads too
  return auditAddress(a) ?? a.toLowerCase();
}

/**
 * What the sign-in throttle counts an address as: an IPv4 address itself, an IPv6 address its /64 (written
 * "2001:db8:0:1::/64"). A /64 is the smallest network a host or a subscriber is given, and any address in it
 * is theirs to take: counted one by one, each of them would get its own free failures.
 */
export function throttleNetwork(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const h = groups(head);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64';
}

/**
 * The trusted proxies: addresses ("10.0.0.5", "::1") and subnets ("10.0.0.0/8", "fd00::/8"). Undefined for
 * none. Throws an error naming the entry for anything else.
 */
export function trustedProxies(list: readonly string[]): BlockList | undefined {
  if (list.length === 0) return undefined;
  const b = new BlockList();
  for (const entry of list) {
    const [addr, bits, extra] = entry.trim().split('/');
    const a = plainAddress(addr ?? '');
    const kind = isIP(a);
    const max = kind === 4 ? 32 : 128;
    if (kind === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max)))
      throw new Error(`"${entry}" is not an IP address or a subnet (address/bits)`);
    const type = kind === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) b.addAddress(a, type);
    else b.addSubnet(a, Number(bits), type);
  }
  return b;
}

function trusted(proxies: BlockList, address: string): boolean {
  const kind = isIP(address);
  return kind !== 0 && proxies.check(address, kind === 4 ? 'ipv4' : 'ipv6');
}

/** The header the trusted proxies write the client's address in. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded';

/**
 * The `for=` value of each element of a `Forwarded` header (RFC 7239), in order, unquoted
 * (`for="[2001:db8::1]:4711"` is `[2001:db8::1]:4711`); '' for an element without one. Values that are not
 * addresses (`unknown`, an obfuscated `_hidden`) are given as they are. Elements and pairs are split at
 * every comma and semicolon, quoted or not: none is in an address, and a quote the client left open must
 * not reach over the elements the proxies appended after it (only those, on the right, are read).
 */
export function forwardedFor(header: string): string[] {
  return header.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      const v = pair.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
    }
    return '';
  });
}

/**
 * The client's address: the socket's peer (`unknown` without one), or, when the peer is a trusted proxy,
 * the nearest address forwarded in `header` (`X-Forwarded-For`, or `Forwarded`'s `for=`) that is not one
 * (the left-most if all are). A hop that is not an address (a malformed header, `for=unknown`, an
 * obfuscated one) ends the walk at the proxy before it.
 */
export function clientAddress(
  peer: string | undefined,
  forwarded: string | string[] | undefined,
  proxies: BlockList | undefined,
  header: ProxyHeader = 'x-forwarded-for',
): string {
  if (peer === undefined) return 'unknown';
  let address = plainAddress(peer);
  if (proxies === undefined || forwarded === undefined) return address;
  const raw = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
  const hops = header === 'forwarded' ? forwardedFor(raw) : raw.split(',');
  for (let i = hops.length - 1; i >= 0 && trusted(proxies, address); i--) {
    const hop = plainAddress(hops[i]!);
    if (isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}

/**
 * Where each request comes from, as the server's settings say to read it (`trustedProxies`, `proxyHeader`):
 * one reader for the HTTP API and the WebSocket upgrade alike.
 */
export function clientAddressReader(cfg: { trustedProxies: readonly string[]; proxyHeader: ProxyHeader }): (req: IncomingMessage) => string {
  const proxies = trustedProxies(cfg.trustedProxies);
  const header = cfg.proxyHeader;
  return (req) => clientAddress(req.socket.remoteAddress, req.headers[header], proxies, header);
}
