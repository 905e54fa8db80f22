/**
 * Online backup benchmark: what copying a running venue (Venue.backup, as the server's backups do) costs the
 * order flow, and how fast it goes.
 *
 *   npm run bench:backup                    a venue file of about 200 MB
 *   npm run bench:backup -- --mb 50         another size
 *   npm run bench:backup -- --rate 5000     the order flow while copying (orders/s, default 5,000)
 *   npm run bench:backup -- --shared-mb 800 also a shared WAL file of that size copied as the users database
 *                                           and the history file are (copyDatabase), under the same flow
 *   npm run bench:backup -- --json          last stdout line is one JSON object
 *
 * Method: a venue on a temp folder with the server's journal settings (synchronous FULL, fsync on the thread
 * pool, the history thread), made large with imported bars (kept in the venue's own file, so its copy has
 * that many bytes to go through), then an open-loop flow of orders from 16 accounts at --rate for as long as
 * a copy takes: once while Venue.backup copies the history file and then the venue's file and its WAL (on
 * worker threads, the venue's checkpoints held meanwhile), then right after it for as long again (baseline:
 * it includes the first checkpoint after the copy, of the WAL the copy let grow). Each ack is timed from
 * the moment its order was due (ackP99Ms), and the event loop's delay is sampled every millisecond
 * (loopDelayMaxMs). `copyMBPerSec` is the venue file's size over the time of the whole backup. With
 * --shared-mb, a third window: the flow while a plain SQLite file in WAL mode of that size, on the same disk,
 * is copied by copyDatabase (`shared`).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { copyDatabase, Venue } from '../engine/venue/index.js';
import { LoadClient, loadSetup } from '../engine/venue/load.js';
import { summarize } from './lib/stats.js';
import { formatTable, round } from './lib/table.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MB = opt('--mb', 200);
const RATE = opt('--rate', 5000);
const SHARED_MB = opt('--shared-mb', 0);
const log = (s: string): void => {
  if (!json) console.log(s);
};

interface Window {
  acks: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** Orders at RATE, each timed from when it was due, until `until` resolves. */
async function flow(v: Venue, clients: LoadClient[], until: Promise<unknown>): Promise<Window> {
  const lat: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let done = false;
  void until.finally(() => (done = true));
  const start = performance.now();
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (!done) {
    const due = Math.floor(((performance.now() - start) * RATE) / 1000);
    for (; sent < due; sent++) {
      const c = clients[sent % clients.length]!;
      const at = start + (sent * 1000) / RATE;
      pending.push(
        v.submit(c.next()).then((a) => {
          c.acked(a);
          lat.push(performance.now() - at);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  loop.disable();
  const s = summarize(Float64Array.from(lat));
  return { acks: lat.length, ackP50Ms: round(s.p50, 2), ackP99Ms: round(s.p99, 2), ackMaxMs: round(s.max, 2), loopDelayP99Ms: round(loop.percentile(99) / 1e6, 2), loopDelayMaxMs: round(loop.max / 1e6, 2) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-backup-'));
  try {
    const file = join(dir, 'venue.db');
    const v = Venue.open(file, { synchronous: 'FULL', fsync: 'background' });
    const setup = loadSetup({ symbols: 4, accounts: 16 });
    await v.submitAll(setup.commands);
    // about 38 bytes of file per imported bar
    const bars = Math.round((MB * 1e6) / 38);
    const t0 = performance.now();
    for (let done = 0; done < bars; done += 200_000) {
      const n = Math.min(200_000, bars - done);
      v.importCandles(setup.symbols[0]!, '1m', Array.from({ length: n }, (_, i) => ({ t: 1_600_000_020_000 + (done + i) * 60_000, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 5 })));
    }
    const clients = setup.accounts.map((a, i) => new LoadClient(a, setup.symbols, 100 + i, v.view, 'simple'));
    // warm-up, and a journal
    await flow(v, clients, new Promise((r) => setTimeout(r, 2000)));
    const venueBytes = statSync(file).size;
    log(`venue file ${(venueBytes / 1e6).toFixed(0)} MB (${bars.toLocaleString()} bars imported in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    // the copy, under the flow
    const out = join(dir, 'copy');
    let copyMs = 0;
    let seq = 0;
    mkdirSync(out);
    const copying = (async () => {
      const c0 = performance.now();
      const b = await v.backup({ venue: join(out, 'venue.db'), history: join(out, 'venue.db-history') });
      copyMs = performance.now() - c0;
      seq = b.seq;
    })();
    const during = await flow(v, clients, copying);
    await copying;
    // the same flow for as long, without a copy (its first commit checkpoints the WAL)
    const baseline = await flow(v, clients, new Promise((r) => setTimeout(r, copyMs)));
    let shared: (Window & { copyMs: number; mb: number }) | undefined;
    if (SHARED_MB > 0) {
      const path = join(dir, 'shared.db');
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB NOT NULL)');
      const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
      const row = Buffer.alloc(64_000, 7);
      db.transaction(() => {
        for (let i = 0; i < (SHARED_MB * 1e6) / row.length; i++) ins.run(row);
      })();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const mb = statSync(path).size / 1e6;
      const c0 = performance.now();
      const w = await flow(v, clients, copyDatabase(path, join(out, 'shared.db')));
      shared = { ...w, copyMs: round(performance.now() - c0, 0), mb: round(mb, 1) };
    }
    v.close();

    const copyMBPerSec = venueBytes / 1e6 / (copyMs / 1000);
    const rows = [
      ['backup of the venue (history, then its file)', `${(copyMs / 1000).toFixed(2)} s`, `${(venueBytes / 1e6).toFixed(0)} MB venue file, ${copyMBPerSec.toFixed(0)} MB/s; copy up to seq ${seq}`],
      [`acks at ${RATE}/s after / during a copy: p50`, `${baseline.ackP50Ms} / ${during.ackP50Ms} ms`, `${baseline.acks} / ${during.acks} orders, open loop, timed from when due`],
      ['  p99', `${baseline.ackP99Ms} / ${during.ackP99Ms} ms`, ''],
      ['  max', `${baseline.ackMaxMs} / ${during.ackMaxMs} ms`, ''],
      ['event-loop delay p99 / max, after', `${baseline.loopDelayP99Ms} / ${baseline.loopDelayMaxMs} ms`, 'sampled every 1 ms'],
      ['event-loop delay p99 / max, during a copy', `${during.loopDelayP99Ms} / ${during.loopDelayMaxMs} ms`, ''],
    ];
    if (shared !== undefined) {
      rows.push(
        ['copy of a shared WAL file', `${(shared.copyMs / 1000).toFixed(2)} s`, `${shared.mb.toFixed(0)} MB, ${(shared.mb / (shared.copyMs / 1000)).toFixed(0)} MB/s`],
        [`acks during it: p50 / p99 / max`, `${shared.ackP50Ms} / ${shared.ackP99Ms} / ${shared.ackMaxMs} ms`, `${shared.acks} orders`],
        ['event-loop delay p99 / max, during it', `${shared.loopDelayP99Ms} / ${shared.loopDelayMaxMs} ms`, ''],
      );
    }
    log(formatTable(['measure', 'value', 'conditions'], rows, ['left', 'right', 'left']));
    if (json) console.log(JSON.stringify({ venueMB: round(venueBytes / 1e6, 1), rate: RATE, copyMs: round(copyMs, 0), copyMBPerSec: round(copyMBPerSec, 0), seq, baseline, during, ...(shared !== undefined ? { shared } : {}) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
