/**
 * The venue process that scripts/torture.ts kills. Opens (recovers) the venue, then runs a seeded
 * multi-client load until it is killed. It reports on stdout, one line per fact, written only after the
 * venue acknowledged (i.e. after COMMIT returned):
 *   R <recoveredTo> <recoveryMs> <replayed>      ready (after recovery)
 *   A <seq> <typeCode> <firstOrderId|0>          one acknowledged, journaled command
 *   H <seq> <stateHash>                          the state hash after command <seq>
 * stdout to a pipe is synchronous on Linux, so a reported line was really written before any kill.
 */
import { parseArgs } from 'node:util';
import { Venue } from '../engine/venue/index.js';
import { COMMAND_TYPES } from '../engine/venue/codec.js';
import { LoadClient, loadSetup, rng } from '../engine/venue/load.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    seed: { type: 'string', default: '1' },
    clients: { type: 'string', default: '24' },
    'snapshot-every': { type: 'string', default: '3000' },
    synchronous: { type: 'string', default: 'FULL' },
    fsync: { type: 'string', default: 'commit' },
  },
  strict: true,
});
if (values.db === undefined) throw new Error('--db is required');
const seed = Number(values.seed);
const r = rng(seed ^ 0x5eed);

const t0 = performance.now();
const venue = Venue.open(values.db, {
  synchronous: values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
  fsync: values.fsync === 'background' ? 'background' : 'commit',
  snapshotEvery: Number(values['snapshot-every']),
  historyFlushRows: 2000,
  historyFlushMs: 50,
  onError: (e, where) => process.stderr.write(`venue error in ${where}: ${String(e)}\n`),
});
const rec = venue.recovery;
let out: string[] = [`R ${rec.recoveredTo} ${(performance.now() - t0).toFixed(1)} ${rec.replayed}`];
let scheduled = false;
function emit(line: string): void {
  out.push(line);
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const text = out.join('\n') + '\n';
      out = [];
      process.stdout.write(text);
    });
  }
}
process.stdout.write(out.join('\n') + '\n');
out = [];

// The state hash after a commit, now and then (the parent compares it with a replay up to that seq).
let lastHash = 0;
venue.onCommit(() => {
  const now = performance.now();
  if (now - lastHash < 150) return;
  lastHash = now;
  emit(`H ${venue.lastSeq} ${venue.stateHash()}`);
});

function report(ack: Awaited<ReturnType<Venue['submit']>>): void {
  if (ack.seq === 0) return; // rejected before sequencing: not journaled, nothing to find later
  const code = ack.command === undefined ? -1 : COMMAND_TYPES.indexOf(ack.command.type);
  emit(`A ${ack.seq} ${code} ${ack.orderIds[0] ?? 0}`);
}

const setup = loadSetup({ symbols: 3, accounts: Number(values.clients) });
if (venue.view.instruments().length === 0) {
  for (const ack of await venue.submitAll(setup.commands)) report(ack);
}
const clients = setup.accounts.map((a, i) => new LoadClient(a, setup.symbols, seed * 1000 + i, venue.view));
await Promise.all(
  clients.map(async (c, i) => {
    for (;;) {
      const cmd = i === 0 && r() < 0.002 ? ({ type: 'EndSession' } as const) : c.next();
      const ack = await venue.submit(cmd);
      c.acked(ack);
      report(ack);
    }
  }),
);
