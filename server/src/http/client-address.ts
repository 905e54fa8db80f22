/**
 * Where a request comes from. The audit log's "from where", the sign-in throttle (per account and address)
 * and the WebSocket caps per address all use it. Behind a reverse proxy (the README's deployment) every
 * socket's peer is the proxy, so with `trustedProxies` set, a request from one of them is taken to come
 * from the address the proxy put in `X-Forwarded-For`. Proxies append the address they received the request
 * from, so the header is read from its right end, past each trusted proxy, to the first address that is not
 * one: what a client wrote on the left of it itself is never taken. From a peer that is not trusted, the
 * header is ignored.
 */
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

/**
 * The client's address: the socket's peer (`unknown` without one), or, when the peer is a trusted proxy,
 * the nearest address in `X-Forwarded-For` that is not one (the left-most if all are). A hop that is not an
 * address (a malformed header) ends the walk at the proxy before it.
 */
export function clientAddress(peer: string | undefined, forwarded: string | string[] | undefined, proxies: BlockList | undefined): string {
  if (peer === undefined) return 'unknown';
  let address = plainAddress(peer);
  if (proxies === undefined || forwarded === undefined) return address;
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',');
  for (let i = hops.length - 1; i >= 0 && trusted(proxies, address); i--) {
    const hop = plainAddress(hops[i]!);
    if (isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}
