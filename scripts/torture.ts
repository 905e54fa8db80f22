/**
 * Crash torture for the durable venue.
 *
 *   npm run torture -- --cycles 100 [--seed 1] [--clients 24] [--json] [--dir PATH] [--keep]
 *
 * Each cycle starts scripts/torture-child.ts (a venue under a seeded multi-client load, synchronous=FULL,
 * periodic snapshots, an occasional end of session) and SIGKILLs it at a random moment: usually while it
 * runs, sometimes while it is still recovering from the previous kill. The child reports every
 * acknowledgement (sequence number, command type, assigned order id) only after the venue resolved it, and
 * now and then the state hash after a given command. After each kill this process opens the database itself
 * (timing the recovery) and checks:
 *   - every acknowledged command is in the journal, at its sequence number, with its type and order id;
 *   - the recovered state hash equals a replay of the whole journal from an empty engine, and every hash the
 *     child reported equals the replay's hash at that command;
 *   - the engine's invariants hold, and the history writer's cash and positions match the engine's.
 * The last line with --json is one object: cycles, acked, lost, hashMismatches, recoveryP99Ms, and more.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkInvariants } from '../engine/core/index.js';
import { orderIdsOf } from '../engine/venue/codec.js';
import { Venue } from '../engine/venue/index.js';
import { rng } from '../engine/venue/load.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    clients: { type: 'string', default: '24' },
    'min-ms': { type: 'string', default: '100' },
    'max-ms': { type: 'string', default: '1200' },
    json: { type: 'boolean', default: false },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    fsync: { type: 'string', default: 'commit' },
  },
  strict: true,
});

const cycles = Number(values.cycles);
const seed = Number(values.seed);
const minMs = Number(values['min-ms']);
const maxMs = Number(values['max-ms']);
const r = rng(seed);
const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'torture-child.ts');
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'venue-torture-'));
fs.mkdirSync(dir, { recursive: true });
const dbPath = path.join(dir, 'venue.db');
const log = (s: string): void => {
  if (!values.json) console.log(s);
};

/** Every acknowledgement the children reported: seq -> [type code, first order id]. */
const acked = new Map<number, [number, number]>();
let lost = 0;
let hashMismatches = 0;
let invariantViolations = 0;
let historyMismatches = 0;
let childErrors = 0;
let killedEarly = 0;
const recoveries: number[] = [];
const childRecoveries: number[] = [];
const problems: string[] = [];

interface CycleResult {
  acks: number;
  hashes: [number, string][];
  exit: string;
  stderr: string;
  ready: boolean;
}

function runChild(cycle: number): Promise<CycleResult> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, '--db', dbPath, '--seed', String(seed * 7919 + cycle), '--clients', values.clients!, '--fsync', values.fsync!],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const res: CycleResult = { acks: 0, hashes: [], exit: '', stderr: '', ready: false };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    // One cycle in ten is killed at a random moment from spawn: possibly before or during recovery.
    if (r() < 0.1) {
      killedEarly++;
      timer = setTimeout(kill, 200 + r() * 1200);
    }
    const delay = minMs + r() * (maxMs - minMs);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const p = line.split(' ');
      if (p[0] === 'A') {
        acked.set(Number(p[1]), [Number(p[2]), Number(p[3])]);
        res.acks++;
      } else if (p[0] === 'H') res.hashes.push([Number(p[1]), p[2]!]);
      else if (p[0] === 'R') {
        res.ready = true;
        childRecoveries.push(Number(p[2]));
        timer ??= setTimeout(kill, delay);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      res.stderr += d.toString();
    });
    // Never wait forever: a child that hangs is killed too (and reported if it never became ready).
    const watchdog = setTimeout(kill, 60_000);
    // done when the process has exited and readline has delivered everything the pipe still held
    let exited = false;
    let closed = false;
    lines.on('close', () => {
      closed = true;
      if (exited) resolve(res);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (timer !== undefined) clearTimeout(timer);
      res.exit = signal ?? `exit ${code}`;
      exited = true;
      if (closed) resolve(res);
    });
  });
}

function verify(cycle: number, res: CycleResult): void {
  const t0 = performance.now();
  const venue = Venue.open(dbPath, { onError: (e, where) => problems.push(`cycle ${cycle}: ${where}: ${String(e)}`) });
  recoveries.push(performance.now() - t0);
  try {
    const rec = venue.recovery;
    if (rec.discarded.length > 0) problems.push(`cycle ${cycle}: recovery discarded frames ${JSON.stringify(rec.discarded)}`);
    // 1. every acknowledged command is there, as acknowledged
    const found = new Set<number>();
    for (const f of venue.journalFrames()) {
      for (let i = 0; i < f.commands.length; i++) {
        const seq = f.seq + i;
        const want = acked.get(seq);
        if (want === undefined) continue;
        const a = f.commands[i]!;
        const ids = orderIdsOf(a);
        if (a[0] !== want[0] || (ids[0] ?? 0) !== want[1]) {
          lost++;
          problems.push(`cycle ${cycle}: seq ${seq} is ${JSON.stringify(a)}, acknowledged as type ${want[0]} order ${want[1]}`);
        }
        found.add(seq);
      }
    }
    for (const seq of acked.keys()) {
      if (!found.has(seq)) {
        lost++;
        if (problems.length < 50) problems.push(`cycle ${cycle}: acknowledged seq ${seq} is missing (journal ends at ${venue.lastSeq})`);
      }
    }
    // 2. recovered state == replay from scratch; reported hashes == replay at that point
    const want = new Map(res.hashes);
    const replay = venue.replayFromScratch(undefined, (seq, engine) => {
      const h = want.get(seq);
      if (h !== undefined && engine.stateHash() !== h) {
        hashMismatches++;
        problems.push(`cycle ${cycle}: hash after ${seq} was ${h} live, replay gives ${engine.stateHash()}`);
      }
    });
    if (replay.seq !== venue.lastSeq || replay.engine.stateHash() !== venue.stateHash()) {
      hashMismatches++;
      problems.push(`cycle ${cycle}: recovered state (seq ${venue.lastSeq}) differs from the replay (seq ${replay.seq})`);
    }
    // 3. invariants, and history writer vs engine
    const bad = venue.invariants();
    const badReplay = checkInvariants(replay.engine);
    invariantViolations += bad.length + badReplay.length;
    if (bad.length > 0) problems.push(`cycle ${cycle}: invariants: ${bad.slice(0, 3).join('; ')}`);
    for (const id of venue.view.accountIds()) {
      const v = venue.view.accountView(id)!;
      let ok = venue.historyCash(id) === v.cash;
      for (const p of v.positions) {
        const h = venue.historyPosition(id, p.symbol);
        if (p.qty !== 0 && (h === undefined || h.qty !== p.qty || h.cost !== p.cost)) ok = false;
      }
      if (!ok) {
        historyMismatches++;
        problems.push(`cycle ${cycle}: history cash/positions of account ${id} differ from the engine`);
      }
    }
    log(
      `cycle ${cycle + 1}/${cycles}: ${res.exit}${res.ready ? '' : ' (before ready)'}, ${res.acks} acks, journal ${venue.lastSeq}, ` +
        `recovered in ${recoveries[recoveries.length - 1]!.toFixed(0)} ms (snapshot ${rec.snapshotSeq} + ${rec.replayed})`,
    );
  } finally {
    // alternate graceful closes with and without a snapshot, so both recovery paths are exercised
    venue.close({ snapshot: cycle % 3 === 0 });
  }
}

const started = performance.now();
for (let c = 0; c < cycles; c++) {
  const res = await runChild(c);
  if (res.exit !== 'SIGKILL') {
    childErrors++;
    problems.push(`cycle ${c}: child ended with ${res.exit}: ${res.stderr.slice(0, 500)}`);
  } else if (res.stderr.trim() !== '') problems.push(`cycle ${c}: child stderr: ${res.stderr.slice(0, 300)}`);
  verify(c, res);
}

const sorted = [...recoveries].sort((a, b) => a - b);
const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
const csorted = [...childRecoveries].sort((a, b) => a - b);
const result = {
  cycles,
  acked: acked.size,
  lost,
  hashMismatches,
  recoveryP99Ms: Math.round(p99 * 10) / 10,
  recoveryMaxMs: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
  childRecoveryP99Ms: Math.round((csorted[Math.min(csorted.length - 1, Math.ceil(csorted.length * 0.99) - 1)] ?? 0) * 10) / 10,
  invariantViolations,
  historyMismatches,
  childErrors,
  killedEarly,
  seed,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  problems: problems.slice(0, 20),
};
if (!values.keep && values.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `\n${cycles} kills: ${result.acked} acknowledged commands, ${lost} lost, ${hashMismatches} hash mismatches, ` +
      `${invariantViolations} invariant violations, ${historyMismatches} history mismatches; recovery p99 ${result.recoveryP99Ms} ms`,
  );
  for (const p of result.problems) console.log(`  ! ${p}`);
}
process.exitCode = lost === 0 && hashMismatches === 0 && invariantViolations === 0 && historyMismatches === 0 && childErrors === 0 ? 0 : 1;
