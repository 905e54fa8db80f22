import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Connection,
  ProtocolError,
  backoffDelay,
  createPortPair,
  serveSession,
  type ConnectionStatus,
  type Port,
  type PushSink,
  type Quote,
  type SessionHandle,
} from '../../protocol/index.js';
import { quote } from './helpers.js';

/** Waits until `pred()` holds (checking every few ms), or fails after `ms`. */
async function until(pred: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A server that can be "restarted": every `open()` makes a new in-memory pair served by serveSession.
 * `drop()` closes the current session as a crash would; `down` makes opens fail like a refused socket.
 */
class FlakyServer {
  sessions: SessionHandle[] = [];
  sinks = new Set<PushSink<'quotes'>>();
  opens = 0;
  down = false;
  acceptToken = (t: string | undefined) => t !== 'bad';
  placeCalls = 0;
  holdPlace = false;
  refuseDepth = false;

  open = async (): Promise<Port> => {
    this.opens++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    const [client, server] = createPortPair({ serialize: true });
    this.sessions.push(
      serveSession(server, {
        serverName: 'flaky',
        authenticate: (hello) => {
          if (!this.acceptToken(hello.token)) throw new ProtocolError('UNAUTHENTICATED', 'Bad token');
          return { userId: 'u', accountId: 1, role: 'trader' };
        },
        handlers: {
          'time.get': () => ({ ts: 42 }),
          'order.cancelAll': async () => {
            this.placeCalls++;
            if (this.holdPlace) await new Promise(() => undefined);
            return { canceled: 0 };
          },
        },
        channels: {
          quotes: (params, _ctx, sink) => {
            this.sinks.add(sink);
            for (const s of params.symbols) sink.push(quote(s, 10_000));
            return () => this.sinks.delete(sink);
          },
          depth: () => {
            if (this.refuseDepth) throw new ProtocolError('FORBIDDEN', 'No depth for you');
            return () => undefined;
          },
        },
      }),
    );
    return client;
  };

  drop(): void {
    this.sessions.at(-1)?.close(1012, 'restart');
  }
  push(last: number): void {
    for (const s of this.sinks) s.push(quote('ACME', last));
  }
}

const live: Connection[] = [];
function connection(server: FlakyServer, token: () => string = () => 't1') {
  const tokens: string[] = [];
  const c = new Connection({
    open: server.open,
    hello: () => {
      const t = token();
      tokens.push(t);
      return { client: 'test', token: t };
    },
    backoff: { initialMs: 5, maxMs: 40, jitter: 0 },
    client: { timeoutMs: 2_000 },
  });
  const states: ConnectionStatus[] = [];
  c.onStatus((s) => states.push(s));
  live.push(c);
  return { c, tokens, states };
}

afterEach(() => {
  for (const c of live.splice(0)) c.close();
});

describe('Connection', () => {
  it('subscribes before it is open, then streams; ready resolves', async () => {
    const server = new FlakyServer();
    const { c } = connection(server);
    const got: Quote[] = [];
    const sub = c.subscribe('quotes', { symbols: ['ACME'] }, { data: (q) => got.push(q) });
    c.start();
    await sub.ready;
    await until(() => got.length === 1);
    server.push(10_050);
    await until(() => got.length === 2);
    expect(got.map((q) => q.last)).toEqual([10_000, 10_050]);
    expect(c.state).toBe('open');
    expect(c.welcome?.server).toBe('flaky');
  });

  it('reconnects with backoff after a drop, asks for a fresh token and re-subscribes', async () => {
    const server = new FlakyServer();
    let n = 0;
    const { c, tokens, states } = connection(server, () => `tok${++n}`);
    const got: number[] = [];
    let interrupted = 0;
    let resubscribed = 0;
    c.subscribe('quotes', { symbols: ['ACME'] }, {
      data: (q) => got.push(q.last ?? 0),
      interrupted: () => interrupted++,
      resubscribed: () => resubscribed++,
    });
    c.start();
    await until(() => got.length === 1);
    server.down = true;
    server.drop();
    await until(() => interrupted === 1 && states.some((s) => s.state === 'reconnecting' && s.attempt >= 3 && s.retryInMs !== undefined));
    const waiting = states.filter((s) => s.state === 'reconnecting' && s.retryInMs !== undefined);
    // Exponential without jitter: 5, 10, 20, 40 (capped).
    expect(waiting.slice(0, 3).map((s) => s.retryInMs)).toEqual([5, 10, 20]);
    expect(waiting[0]!.error?.code).toBe('UNAVAILABLE');
    server.down = false;
    await until(() => resubscribed === 1 && c.state === 'open');
    await until(() => got.length === 2); // the fresh snapshot after re-subscribing
    server.push(10_070);
    await until(() => got.length === 3);
    expect(got).toEqual([10_000, 10_000, 10_070]);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tokens).size).toBe(tokens.length); // a new hello (token) every attempt
    expect(c.status.attempt).toBe(0);
  });

  it('a call made while reconnecting waits for the connection', async () => {
    const server = new FlakyServer();
    const { c } = connection(server);
    c.start();
    await until(() => c.state === 'open');
    server.down = true;
    server.drop();
    await until(() => c.state === 'reconnecting');
    const pending = c.call('time.get');
    setTimeout(() => (server.down = false), 30);
    await expect(pending).resolves.toEqual({ ts: 42 });
  });

  it('a call in flight when the connection drops rejects with UNAVAILABLE and is not retried', async () => {
    const server = new FlakyServer();
    server.holdPlace = true;
    const { c } = connection(server);
    c.start();
    await until(() => c.state === 'open');
    const inFlight = c.call('order.cancelAll', {});
    await until(() => server.placeCalls === 1);
    server.drop();
    await expect(inFlight).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await until(() => c.state === 'open');
    await new Promise((r) => setTimeout(r, 20));
    expect(server.placeCalls).toBe(1);
  });

  it('stops on a fatal handshake refusal and starts again when told to', async () => {
    const server = new FlakyServer();
    let token = 'bad';
    const { c, states } = connection(server, () => token);
    const got: number[] = [];
    const sub = c.subscribe('quotes', { symbols: ['ACME'] }, { data: (q) => got.push(q.last ?? 0) });
    c.start();
    await until(() => c.state === 'closed');
    expect(c.status.error?.code).toBe('UNAUTHENTICATED');
    const opensAfterRefusal = server.opens;
    await new Promise((r) => setTimeout(r, 30));
    expect(server.opens).toBe(opensAfterRefusal); // no retry loop against a refusal
    await expect(c.call('time.get')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(sub.active).toBe(true); // the subscription waits for the owner to fix the login
    token = 'good';
    c.start();
    await until(() => got.length === 1);
    expect(states.map((s) => s.state)).toContain('open');
  });

  it('a refused subscription rejects ready, calls error once and is not retried', async () => {
    const server = new FlakyServer();
    server.refuseDepth = true;
    const { c } = connection(server);
    const errors: string[] = [];
    const sub = c.subscribe('depth', { symbol: 'ACME' }, { data: () => undefined, error: (e) => errors.push(e.code) });
    c.start();
    await expect(sub.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(errors).toEqual(['FORBIDDEN']);
    expect(sub.active).toBe(false);
    server.drop();
    await until(() => c.state === 'open' && server.opens === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual(['FORBIDDEN']);
  });

  it('unsubscribe stops the stream upstream; close ends everything and rejects waiting calls', async () => {
    const server = new FlakyServer();
    const { c } = connection(server);
    const got: number[] = [];
    const sub = c.subscribe('quotes', { symbols: ['ACME'] }, { data: (q) => got.push(q.last ?? 0) });
    c.start();
    await until(() => got.length === 1);
    await sub.unsubscribe();
    await until(() => server.sinks.size === 0);
    server.push(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([10_000]);
    server.down = true;
    server.drop();
    await until(() => c.state === 'reconnecting');
    const waiting = c.call('time.get');
    c.close();
    await expect(waiting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const opens = server.opens;
    await new Promise((r) => setTimeout(r, 60));
    expect(server.opens).toBe(opens); // no timer left behind
    expect(c.state).toBe('closed');
  });

  it('backoff grows by the factor up to the cap, within the jitter band', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, initialMs, maxMs, jitter, r) => {
          const b = { initialMs, maxMs, factor: 2, jitter };
          const d = backoffDelay(attempt, b, r);
          const base = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
          expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
          expect(d).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
          expect(backoffDelay(attempt + 1, b, 0.5)).toBeGreaterThanOrEqual(backoffDelay(attempt, b, 0.5));
        },
      ),
    );
  });
});
