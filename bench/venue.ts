/**
 * Venue benchmark: durable commands per second with group commit, acknowledgement latency, and recovery time.
 *
 *   npm run bench:venue                      full run (a few minutes)
 *   npm run bench:venue -- --quick           small run (under 30 s; recovery extrapolated from 200k commands)
 *   npm run bench:venue -- --json            last stdout line is one JSON object
 *   npm run bench:venue -- --clients 1024    concurrent submitters (default 1024)
 *   npm run bench:venue -- --seed 7
 *   npm run bench:venue -- --fsync background   the WAL fsync on the thread pool (VenueOptions.fsync)
 *
 * Method
 * - Throughput: a fresh venue in a temp folder (real file, WAL), 8 symbols, `clients` accounts, each account
 *   a LoadClient (engine/venue/load.ts: limit/market/stop/trailing/bracket/OCO orders, cancels, replaces,
 *   cash moves, client order ids) that keeps exactly one command in flight: submit, await the durable ack,
 *   submit the next. So every group commit holds up to `clients` commands. Latency is submit() to the
 *   resolution of its promise (which happens after COMMIT returned), per command. A warm-up is discarded.
 *   Runs: synchronous FULL and NORMAL, each with history (the default venue) and without (journal +
 *   engine only: the sequencing path); then FULL and NORMAL with only 16 submitters (light load: small
 *   commits, the latency a lone trader sees). Periodic snapshots are off during the timed runs; the time
 *   taking one snapshot of the final state blocks the venue is reported separately.
 * - Recovery: a journal of N commands of the same mix (generated through an engine so cancels and replaces
 *   name real orders) is written straight into a venue database in large frames, with the history watermark
 *   at the end of the journal (as after a crash: history lags by at most historyFlushRows). Then
 *   Venue.open() is timed with no snapshot: every command is read, checked (CRC), decoded and executed.
 *   N = 1,000,000 (quick: 200,000, scaled linearly to 1M and marked as extrapolated).
 * - CPU: process.cpuUsage() over each timed run, so a loaded machine shows up as cpu% below 100.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type Command } from '../engine/core/index.js';
import { decodeCommand, encodeCommand, type Encoded, type VenueCommand } from '../engine/venue/codec.js';
import { Venue, type Ack } from '../engine/venue/index.js';
import { Journal } from '../engine/venue/journal.js';
import { LoadClient, loadSetup, rng } from '../engine/venue/load.js';
import { openDatabase, setMeta } from '../engine/venue/schema.js';
import { summarize } from './lib/stats.js';
import { fmtCount, formatTable, round } from './lib/table.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    clients: { type: 'string', default: '1024' },
    fsync: { type: 'string', default: 'commit' },
  },
  strict: true,
});
const quick = argv.quick;
const seed = Number(argv.seed);
const nClients = Number(argv.clients);
const log = (s: string): void => {
  if (!argv.json) console.log(s);
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'venue-bench-'));

interface RunResult {
  name: string;
  synchronous: 'FULL' | 'NORMAL';
  history: boolean;
  commands: number;
  seconds: number;
  commandsPerSec: number;
  ackP50Ms: number;
  ackP90Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  commits: number;
  meanBatch: number;
  cpuPercent: number;
  snapshotMs: number;
}

async function throughput(sync: 'FULL' | 'NORMAL', history: boolean, nClients: number): Promise<RunResult> {
  const file = path.join(tmp, `tp-${sync}-${history}-${nClients}.db`);
  const venue = Venue.open(file, { synchronous: sync, history, snapshotEvery: 0, snapshotIntervalMs: 0, fsync: argv.fsync === 'background' ? 'background' : 'commit' });
  const setup = loadSetup({ symbols: 8, accounts: nClients });
  await venue.submitAll(setup.commands);
  const clients = setup.accounts.map((a, i) => new LoadClient(a, setup.symbols, seed * 100_000 + i, venue.view));
  let commits = 0;
  let committed = 0;
  venue.onCommit((b) => {
    commits++;
    committed += b.length;
  });
  const run = async (perClient: number, lat: Float64Array | null): Promise<void> => {
    let k = 0;
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < perClient; i++) {
          const cmd = c.next();
          const t0 = performance.now();
          const ack: Ack = await venue.submit(cmd);
          if (lat !== null) lat[k++] = performance.now() - t0;
          c.acked(ack);
        }
      }),
    );
  };
  const total = nClients < 100 ? (quick ? 5_000 : 30_000) : quick ? 60_000 : 400_000;
  const perClient = Math.max(1, Math.round(total / clients.length));
  await run(Math.max(1, Math.round(perClient / 5)), null); // warm-up
  commits = committed = 0;
  const lat = new Float64Array(perClient * clients.length);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(perClient, lat);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = summarize(lat);
  const ts = performance.now();
  venue.snapshot();
  const snapshotMs = performance.now() - ts;
  venue.close({ snapshot: false });
  return {
    name: `${sync}${history ? '' : ', journal only'}, ${nClients} clients`,
    synchronous: sync,
    history,
    commands: lat.length,
    seconds: round(seconds, 2),
    commandsPerSec: Math.round(lat.length / seconds),
    ackP50Ms: round(s.p50, 3),
    ackP90Ms: round(s.p90, 3),
    ackP99Ms: round(s.p99, 3),
    ackMaxMs: round(s.max, 3),
    commits,
    meanBatch: Math.round(committed / Math.max(1, commits)),
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100),
    snapshotMs: round(snapshotMs, 1),
  };
}

/** Generates n journaled commands of the load mix (through an engine, so they name real orders). */
function buildJournal(file: string, n: number): { seconds: number; hash: string } {
  const t0 = performance.now();
  const { db } = openDatabase(file, { synchronous: 'NORMAL', busyTimeoutMs: 1000, exclusive: true, integrityCheck: false, now: Date.now() });
  db.transaction(() => setMeta(db, 'candle_history', '240'))();
  const j = new Journal(db);
  const e = new Engine({ candleHistory: 240 });
  const setup = loadSetup({ symbols: 8, accounts: 1024 });
  const r = rng(seed);
  let id = 1;
  let seq = 0;
  let ts = Date.UTC(2024, 0, 2, 14, 30);
  let frame: Encoded[] = [];
  let frameSeq = 1;
  const flush = (): void => {
    if (frame.length === 0) return;
    j.append(frameSeq, ts, frame);
    frameSeq = seq + 1;
    frame = [];
  };
  db.exec('BEGIN');
  const exec = (req: VenueCommand): { cmd: Command; ack: Ack } => {
    const enc = encodeCommand(req, () => id++);
    const cmd = decodeCommand(enc, ts);
    const events = e.execute(cmd);
    seq++;
    frame.push(enc);
    if (frame.length === 2048) {
      flush();
      ts += 1 + Math.floor(r() * 20);
    }
    const last = events.at(-1);
    const ids = cmd.type === 'PlaceOrder' ? [cmd.orderId] : cmd.type === 'PlaceOco' ? cmd.legs.map((l) => l.orderId) : [];
    return { cmd, ack: { seq, ts, events, orderIds: ids, ...(last?.type === 'Rejected' ? { rejected: last } : {}) } };
  };
  for (const c of setup.commands) exec(c);
  const clients = setup.accounts.map((a, i) => new LoadClient(a, setup.symbols, seed * 100_000 + i, e));
  while (seq < n) {
    const c = clients[Math.floor(r() * clients.length)]!;
    c.acked(exec(c.next()).ack);
    if (seq % 100_000 === 0) {
      flush();
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  flush();
  setMeta(db, 'history_seq', String(seq));
  db.exec('COMMIT');
  db.close();
  return { seconds: (performance.now() - t0) / 1000, hash: e.stateHash() };
}

async function main(): Promise<void> {
  log(`venue bench: ${nClients} concurrent submitters, seed ${seed}${quick ? ', quick' : ''}; ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const runs: RunResult[] = [];
  for (const [sync, history] of [
    ['FULL', true],
    ['NORMAL', true],
    ['FULL', false],
    ['NORMAL', false],
  ] as const) {
    const r = await throughput(sync, history, nClients);
    runs.push(r);
    log(`  ${r.name}: ${fmtCount(r.commandsPerSec)} commands/s, ack p50 ${r.ackP50Ms} ms, p99 ${r.ackP99Ms} ms`);
  }
  // light load: a few submitters, small group commits (latency rather than throughput)
  for (const sync of ['FULL', 'NORMAL'] as const) {
    const r = await throughput(sync, true, 16);
    runs.push(r);
    log(`  ${r.name}: ${fmtCount(r.commandsPerSec)} commands/s, ack p50 ${r.ackP50Ms} ms, p99 ${r.ackP99Ms} ms`);
  }

  const n = quick ? 200_000 : 1_000_000;
  const file = path.join(tmp, 'recovery.db');
  const built = buildJournal(file, n);
  log(`  journal of ${fmtCount(n)} commands written in ${built.seconds.toFixed(1)} s (${(fs.statSync(file).size / 1e6).toFixed(0)} MB)`);
  // The engine's replay alone (history: false): a restart whose history is already written replays only this.
  const te = performance.now();
  const ve = Venue.open(file, { snapshotIntervalMs: 0, history: false });
  const engineReplayMs = performance.now() - te;
  const engineOk = ve.stateHash() === built.hash && ve.recovery.replayed === n;
  ve.close({ snapshot: false });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const v = Venue.open(file, { snapshotIntervalMs: 0 });
  const recoveryMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const ok = v.stateHash() === built.hash && v.lastSeq === n && v.recovery.replayed === n;
  const t1 = performance.now();
  v.snapshot();
  const snapMs = performance.now() - t1;
  v.close({ snapshot: false });
  const t2 = performance.now();
  const v2 = Venue.open(file, { snapshotIntervalMs: 0 });
  const fromSnapshotMs = performance.now() - t2;
  v2.close({ snapshot: false });
  const recoveryMs1M = recoveryMs * (1_000_000 / n);
  log(
    `  replay of ${fmtCount(n)} journaled commands by the engine alone (history already written): ${engineReplayMs.toFixed(0)} ms` +
      `${n !== 1_000_000 ? ` (~${(engineReplayMs * (1_000_000 / n)).toFixed(0)} ms for 1M, extrapolated)` : ''}; state hash ${engineOk ? 'matches' : 'DIFFERS'}`,
  );
  log(
    `  recovery of ${fmtCount(n)} journaled commands (no snapshot, all history derived): ${recoveryMs.toFixed(0)} ms` +
      `${n !== 1_000_000 ? ` (~${recoveryMs1M.toFixed(0)} ms for 1M, extrapolated)` : ''}; state hash ${ok ? 'matches' : 'DIFFERS'}; ` +
      `from a snapshot: ${fromSnapshotMs.toFixed(0)} ms (taking it blocked the venue ${snapMs.toFixed(0)} ms; the history thread writes it)`,
  );

  const full = runs[0]!;
  const normal = runs[1]!;
  log('');
  log(
    formatTable(
      ['run', 'commands/s', 'ack p50 ms', 'ack p90 ms', 'ack p99 ms', 'ack max ms', 'commits', 'mean batch', 'cpu %'],
      runs.map((r) => [
        r.name,
        fmtCount(r.commandsPerSec),
        String(r.ackP50Ms),
        String(r.ackP90Ms),
        String(r.ackP99Ms),
        String(r.ackMaxMs),
        String(r.commits),
        String(r.meanBatch),
        String(r.cpuPercent),
      ]),
    ),
  );
  const out = {
    durableCommandsPerSec: full.commandsPerSec,
    ackP50Ms: full.ackP50Ms,
    ackP99Ms: full.ackP99Ms,
    engineReplayMs1M: Math.round(engineReplayMs * (1_000_000 / n)),
    engineReplayHashOk: engineOk,
    recoveryMs1M: Math.round(recoveryMs1M),
    recoveryExtrapolated: n !== 1_000_000,
    recoveryCommands: n,
    recoveryMs: Math.round(recoveryMs),
    recoveryCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / recoveryMs) * 100),
    recoveryHashOk: ok,
    recoveryFromSnapshotMs: Math.round(fromSnapshotMs),
    normalCommandsPerSec: normal.commandsPerSec,
    normalAckP50Ms: normal.ackP50Ms,
    normalAckP99Ms: normal.ackP99Ms,
    journalOnlyFullCommandsPerSec: runs[2]!.commandsPerSec,
    journalOnlyFullAckP99Ms: runs[2]!.ackP99Ms,
    journalOnlyNormalCommandsPerSec: runs[3]!.commandsPerSec,
    lightLoadFullAckP50Ms: runs[4]!.ackP50Ms,
    lightLoadFullAckP99Ms: runs[4]!.ackP99Ms,
    lightLoadNormalAckP50Ms: runs[5]!.ackP50Ms,
    lightLoadNormalAckP99Ms: runs[5]!.ackP99Ms,
    runs,
    clients: nClients,
    seed,
    quick,
    cpus: os.cpus().length,
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
  fs.rmSync(tmp, { recursive: true, force: true });
  if (argv.json) console.log(JSON.stringify(out));
}

await main();
