import { describe, expect, it } from 'vitest';
import { assertJsonSafe, createPortPair } from '../../protocol/index.js';
import { settle } from './helpers.js';

describe('createPortPair', () => {
  it('delivers asynchronously and in order, both ways', async () => {
    const [a, b] = createPortPair();
    const atB: unknown[] = [];
    const atA: unknown[] = [];
    b.onMessage((m) => atB.push(m));
    a.onMessage((m) => atA.push(m));
    for (let i = 0; i < 5; i++) a.send(i);
    b.send('x');
    expect(atB).toEqual([]);
    await settle();
    expect(atB).toEqual([0, 1, 2, 3, 4]);
    expect(atA).toEqual(['x']);
  });

  it('passes references without serialize and copies with serialize', async () => {
    const obj = { a: [1, 2], b: { c: 'd' } };
    for (const serialize of [false, true]) {
      const [a, b] = createPortPair({ serialize });
      let got: unknown;
      b.onMessage((m) => (got = m));
      a.send(obj);
      await settle();
      expect(got).toEqual(obj);
      expect(got === obj).toBe(!serialize);
    }
  });

  it('with serialize, refuses what JSON would not carry faithfully', () => {
    const [a] = createPortPair({ serialize: true });
    for (const bad of [
      { n: 1n },
      { d: new Date(0) },
      { x: Number.NaN },
      { x: Infinity },
      { f: () => 1 },
      [undefined],
      undefined,
      { m: new Map() },
      Symbol('s'),
    ]) {
      expect(() => a.send(bad), String(typeof bad)).toThrow(TypeError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => a.send(cyclic)).toThrow(/cycle/);
    // undefined object properties are fine: JSON drops them
    expect(() => a.send({ a: undefined, b: null, c: [1, 'x', true], d: Object.create(null) })).not.toThrow();
    expect(() => assertJsonSafe({ ok: [{ deep: 1 }] })).not.toThrow();
  });

  it('closing one end closes both; messages in flight still arrive before the close listeners', async () => {
    const [a, b] = createPortPair();
    const events: string[] = [];
    b.onMessage((m) => events.push(`b got ${String(m)}`));
    a.onClose((i) => events.push(`a closed ${i.code} ${i.reason}`));
    b.onClose((i) => events.push(`b closed ${i.code} ${i.reason}`));
    a.send('one');
    a.send('two');
    a.close(4000, 'bye');
    expect(a.closed).toBe(true);
    expect(b.closed).toBe(true);
    await settle();
    expect(events.filter((e) => e.startsWith('b'))).toEqual(['b got one', 'b got two', 'b closed 4000 bye']);
    expect(events).toContain('a closed 4000 bye');
  });

  it('drops sends after close silently and runs late close listeners once', async () => {
    const [a, b] = createPortPair({ serialize: true });
    const got: unknown[] = [];
    a.onMessage((m) => got.push(m));
    b.close();
    expect(() => b.send({ late: true })).not.toThrow();
    expect(() => a.send({ late: true })).not.toThrow();
    await settle();
    expect(got).toEqual([]);
    let calls = 0;
    a.onClose(() => calls++);
    a.close();
    await settle();
    expect(calls).toBe(1);
  });

  it('holds messages until the first listener is attached', async () => {
    const [a, b] = createPortPair();
    a.send(1);
    a.send(2);
    await settle();
    const got: unknown[] = [];
    b.onMessage((m) => got.push(m));
    a.send(3);
    await settle();
    expect(got).toEqual([1, 2, 3]);
  });

  it('keeps delivering when a listener throws', async () => {
    const [a, b] = createPortPair();
    const got: unknown[] = [];
    const errors: unknown[] = [];
    const onErr = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onErr);
    try {
      b.onMessage((m) => {
        if (m === 1) throw new Error('listener bug');
      });
      b.onMessage((m) => got.push(m));
      a.send(1);
      a.send(2);
      await settle();
      expect(got).toEqual([1, 2]);
      expect(errors).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onErr);
    }
  });
});
