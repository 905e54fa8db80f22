import {
  ProtocolClient,
  createPortPair,
  serveSession,
  type ClientOptions,
  type OrderRecord,
  type Port,
  type Quote,
  type ServeOptions,
  type SessionHandle,
  type SessionInfo,
} from '../../protocol/index.js';

export const TS = 1_700_000_000_000;

export function quote(symbol: string, last = 10_000): Quote {
  return {
    symbol,
    bid: last - 1,
    bidSize: 100,
    ask: last + 1,
    askSize: 200,
    last,
    lastSize: 10,
    volume: 1_000,
    turnover: 10_000_000,
    open: 9_900,
    high: 10_100,
    low: 9_800,
    previousClose: 9_950,
    change: last - 9_950,
    changeBps: 50,
    ts: TS,
  };
}

export function orderRecord(orderId: number, extra: Partial<OrderRecord> = {}): OrderRecord {
  return {
    orderId,
    accountId: 7,
    symbol: 'ACME',
    side: 'buy',
    orderType: 'limit',
    tif: 'day',
    qty: 100,
    filledQty: 0,
    leaves: 100,
    price: 10_000,
    postOnly: false,
    status: 'working',
    ts: TS,
    updatedTs: TS,
    ...extra,
  };
}

/** Lets every queued microtask and zero-delay timer run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** A raw end of a port: records everything that arrives, and can wait for a matching message. */
export class Peer {
  readonly received: unknown[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  #waiters: { pred: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];

  constructor(readonly port: Port) {
    port.onMessage((m) => {
      this.received.push(m);
      for (const w of [...this.#waiters]) {
        if (w.pred(m)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    port.onClose((info) => {
      this.closedWith = info;
    });
  }

  send(m: unknown): void {
    this.port.send(m);
  }

  /** The first message (already received or still to come) that matches. */
  waitFor<T = Record<string, unknown>>(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 1000): Promise<T> {
    const p = (m: unknown) => typeof m === 'object' && m !== null && pred(m as Record<string, unknown>);
    const seen = this.received.find(p);
    if (seen !== undefined) return Promise.resolve(seen as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Peer.waitFor timed out')), timeoutMs);
      this.#waiters.push({
        pred: p,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }

  /** Everything received so far with this `t`. */
  all(t: string): Record<string, unknown>[] {
    return this.received.filter(
      (m): m is Record<string, unknown> => typeof m === 'object' && m !== null && (m as { t?: unknown }).t === t,
    );
  }
}

export interface Setup {
  client: ProtocolClient;
  server: SessionHandle;
  clientPort: Port;
  serverPort: Port;
  internalErrors: unknown[];
}

/** A connected client and session server over an in-memory pair. */
export async function connected(
  serialize: boolean,
  options: Partial<ServeOptions> & { session?: SessionInfo; clientOptions?: ClientOptions } = {},
): Promise<Setup> {
  const [clientPort, serverPort] = createPortPair({ serialize });
  const internalErrors: unknown[] = [];
  const { session, clientOptions, ...serve } = options;
  const server = serveSession(serverPort, {
    serverName: 'test-venue',
    handlers: {},
    authenticate: () => session ?? { userId: 'u1', accountId: 7, role: 'trader' },
    onInternalError: (e) => internalErrors.push(e),
    ...serve,
  });
  const client = new ProtocolClient(clientPort, clientOptions);
  await client.connect({ client: 'test-client' });
  return { client, server, clientPort, serverPort, internalErrors };
}

/** A server port with a raw peer on the other end, already past the handshake. */
export async function rawSession(
  serialize: boolean,
  options: Partial<ServeOptions> & { session?: SessionInfo } = {},
): Promise<{ peer: Peer; server: SessionHandle; internalErrors: unknown[] }> {
  const [rawPort, serverPort] = createPortPair({ serialize });
  const internalErrors: unknown[] = [];
  const { session, ...serve } = options;
  const server = serveSession(serverPort, {
    serverName: 'test-venue',
    handlers: {},
    authenticate: () => session ?? { userId: 'u1', accountId: 7, role: 'trader' },
    onInternalError: (e) => internalErrors.push(e),
    ...serve,
  });
  const peer = new Peer(rawPort);
  peer.send({ t: 'hello', v: 1, client: 'raw' });
  await peer.waitFor((m) => m.t === 'welcome');
  return { peer, server, internalErrors };
}
