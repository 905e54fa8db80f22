/**
 * Simulated-market benchmark: what the agent simulation costs.
 *
 *   npm run bench:sim                 full run (about a minute)
 *   npm run bench:sim -- --quick      small run (well under 30 s)
 *   npm run bench:sim -- --json       last stdout line is one JSON object
 *   npm run bench:sim -- --seed 7
 *
 * Method
 * - Max speed: the default market (20 symbols, 13 agent accounts) on an in-memory Engine, every command
 *   executed and every event fed back, as fast as possible. Each pass continues the same run (later passes
 *   cover later simulated time). An untimed warm-up (the first 2 simulated hours,
 *   which also lets V8 optimise: throughput keeps rising for the first few hundred thousand orders), then timed passes of whole simulated sessions (quick: 2 simulated hours),
 *   agentOrdersPerSec = agent commands (PlaceOrder + ReplaceOrder +
 *   CancelOrder) / wall seconds; agentOrdersPerCpuSec divides by the process's CPU time instead (less
 *   sensitive to other load on the machine). The median pass is reported.
 * - Engine share: after each timed pass, a further stretch is recorded (untimed) and its commands replayed
 *   on an engine restored from a snapshot taken before it (timed), so engine time and the simulator's own
 *   overhead per order can be told apart (overhead = pass wall time - engine time for that many orders).
 * - Real time, derived: CPU seconds per simulated second at max speed (= the CPU share at speed 1), × 100 %.
 * - Real time, measured: the SimDriver on Node timers at speed 1 for a few wall seconds from the open (the
 *   busiest part of a session), CPU time / wall time of the whole process.
 * - Warm-up history: generating 30 sessions x 20 symbols of 1-minute bars.
 * The machine may be shared: wall-time figures are noisy; CPU-time figures less so.
 */
import { parseArgs } from 'node:util';
import { Engine, type Command } from '../engine/core/index.js';
import { MarketSim, SimDriver, defaultUniverse, generateHistory, type Scheduler } from '../engine/sim/index.js';
import { medianOf } from './lib/stats.js';
import { fmtCount, round } from './lib/table.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (argv.help) {
  console.log('usage: tsx bench/sim.ts [--quick] [--json] [--seed N]');
  process.exit(0);
}
const QUICK = argv.quick;
const SEED = Number(argv.seed);
const START = Date.UTC(2025, 0, 6); // Monday; the sim starts at the 14:30 UTC open
const WARM_STEPS = 7_200;
const PASS_STEPS = QUICK ? 7_200 : 23_401; // 2 simulated hours, or a whole session (with its close)
const PASSES = QUICK ? 1 : 3;
const REALTIME_SEC = QUICK ? 4 : 15;
const TARGETS = { agentOrdersPerSec: 500_000, cpuPercentRealtime: 10 };
const log = (s: string): void => {
  if (!argv.json) console.log(s);
};

function cpuSec(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

// --------------------------------------------------------------------------------------- max speed

const engine = new Engine();
const sim = new MarketSim({ seed: SEED, startTs: START });
for (const c of sim.setupCommands()) sim.observe(engine.execute(c));
sim.run((c) => engine.execute(c), engine, { steps: WARM_STEPS });

interface Pass {
  orders: number;
  wall: number;
  cpu: number;
  simSec: number;
  engineWall: number;
}
const passes: Pass[] = [];
for (let p = 0; p < PASSES; p++) {
  // timed: simulator and engine together
  const o0 = sim.counters.agentOrders;
  const st0 = sim.counters.steps;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < PASS_STEPS; k++) {
    const cmds = sim.step(engine);
    for (let i = 0; i < cmds.length; i++) sim.observe(engine.execute(cmds[i]!));
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSec(process.cpuUsage(cpu0));
  const orders = sim.counters.agentOrders - o0;
  const simSec = ((sim.counters.steps - st0) * sim.stepMs) / 1000;
  // engine alone: record a stretch of the same size (untimed), then replay its commands on an engine restored
  // from the snapshot taken before it (timed)
  const start = engine.snapshot();
  const recorded: Command[] = [];
  for (let k = 0; k < Math.min(PASS_STEPS, 7_200); k++) {
    const cmds = sim.step(engine);
    for (let i = 0; i < cmds.length; i++) {
      sim.observe(engine.execute(cmds[i]!));
      recorded.push(cmds[i]!);
    }
  }
  const e2 = Engine.restore(start);
  const replay = (): number => {
    let sink = 0;
    for (let i = 0; i < recorded.length; i++) sink += e2.execute(recorded[i]!).length;
    return sink;
  };
  const t1 = process.hrtime.bigint();
  if (replay() === 0) throw new Error('no events');
  const engineWall = Number(process.hrtime.bigint() - t1) / 1e9;
  if (e2.stateHash() !== engine.stateHash()) throw new Error('engine replay diverged');
  passes.push({ orders, wall, cpu, simSec, engineWall: (engineWall * orders) / Math.max(1, recorded.length) });
  log(`pass ${p + 1}: ${fmtCount(orders)} agent orders in ${wall.toFixed(2)} s wall / ${cpu.toFixed(2)} s cpu -> ${fmtCount(orders / wall)}/s (engine alone ${fmtCount(recorded.length / engineWall)}/s)`);
}
const med = (f: (p: Pass) => number): number => medianOf(passes.map(f));
const agentOrdersPerSec = med((p) => p.orders / p.wall);
const agentOrdersPerCpuSec = med((p) => p.orders / p.cpu);
const engineOnlyOrdersPerSec = med((p) => p.orders / p.engineWall);
const simOverheadUsPerOrder = med((p) => ((p.wall - p.engineWall) / p.orders) * 1e6);
const cpuSecPerSimSec = med((p) => p.cpu / p.simSec);
const ordersPerSimSec = med((p) => p.orders / p.simSec);

// --------------------------------------------------------------------------------------- real time

async function realtime(seconds: number): Promise<{ cpuPercent: number; steps: number; orders: number; wall: number }> {
  const e = new Engine();
  const s = new MarketSim({ seed: SEED, startTs: START });
  for (const c of s.setupCommands()) s.observe(e.execute(c));
  const scheduler: Scheduler = {
    now: () => performance.now(),
    schedule: (fn, ms) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
  const d = new SimDriver({ sim: s, view: e, scheduler, speed: 1, exec: (cmds) => cmds.map((c) => e.execute(c)) });
  const o0 = s.counters.agentOrders;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  d.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  d.stop();
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSec(process.cpuUsage(cpu0));
  return { cpuPercent: (100 * cpu) / wall, steps: d.steps, orders: s.counters.agentOrders - o0, wall };
}
const rt = await realtime(REALTIME_SEC);
log(`real time (speed 1, ${rt.wall.toFixed(1)} s from the open): ${rt.steps} steps, ${rt.orders} agent orders, process CPU ${rt.cpuPercent.toFixed(2)} %`);

// --------------------------------------------------------------------------------------- warm-up history

const h0 = process.hrtime.bigint();
const hist = generateHistory({ seed: SEED, universe: defaultUniverse(), days: 30, endBefore: START });
const warmupSeconds = Number(process.hrtime.bigint() - h0) / 1e9;
let bars = 0;
for (const b of hist.bars.values()) bars += b.length;

const cpuPercentRealtime = 100 * cpuSecPerSimSec;
const out = {
  bench: 'sim',
  node: process.versions.node,
  seed: SEED,
  quick: QUICK,
  symbols: sim.symbols().length,
  agentAccounts: sim.agentAccounts().length,
  passes: passes.length,
  stepsPerPass: PASS_STEPS,
  agentOrdersPerSec: Math.round(agentOrdersPerSec),
  agentOrdersPerCpuSec: Math.round(agentOrdersPerCpuSec),
  engineOnlyOrdersPerSec: Math.round(engineOnlyOrdersPerSec),
  simOverheadUsPerOrder: round(simOverheadUsPerOrder, 3),
  agentOrdersPerSimSec: round(ordersPerSimSec, 1),
  cpuPercentRealtime: round(cpuPercentRealtime, 3),
  cpuPercentRealtimeMeasured: round(rt.cpuPercent, 2),
  realtimeWallSec: round(rt.wall, 1),
  realtimeSteps: rt.steps,
  warmupSeconds30x20: round(warmupSeconds, 2),
  warmupBars: bars,
  targets: TARGETS,
  pass: agentOrdersPerSec >= TARGETS.agentOrdersPerSec && cpuPercentRealtime < TARGETS.cpuPercentRealtime && rt.cpuPercent < TARGETS.cpuPercentRealtime,
};
log('');
log(`max speed      ${fmtCount(agentOrdersPerSec)} agent orders/s wall (target >= ${fmtCount(TARGETS.agentOrdersPerSec)}), ${fmtCount(agentOrdersPerCpuSec)}/s per CPU second`);
log(`               engine alone ${fmtCount(engineOnlyOrdersPerSec)}/s; simulator overhead ${out.simOverheadUsPerOrder} us per order`);
log(`real time      ${out.agentOrdersPerSimSec} agent orders per simulated second; CPU ${out.cpuPercentRealtime} % of one core derived, ${out.cpuPercentRealtimeMeasured} % measured (target < 10 %)`);
log(`warm-up        30 sessions x 20 symbols = ${fmtCount(bars)} one-minute bars in ${out.warmupSeconds30x20} s`);
console.log(JSON.stringify(out));
