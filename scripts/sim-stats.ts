/**
 * Market-quality statistics of the simulated market (seeded, as fast as possible, on an in-memory engine).
 *
 *   npm run sim:stats                        4 sessions x 20 symbols, seed 1, human-readable
 *   npm run sim:stats -- --json              last stdout line is one JSON object
 *   npm run sim:stats -- --seed 7 --days 2 --symbols 10
 *
 * Prints returnsKurtosis (raw kurtosis of 1-minute returns, normal = 3; median over symbols),
 * absReturnAutocorrLag1 (volatility clustering; median over symbols), medianSpreadTicks, crossedBooks,
 * tradesPerSymbolPerMinute and priceBandBreaches (definitions: engine/sim/stats.ts), checks the engine's
 * invariants at the end, and exits 1 if a threshold of the issue is missed.
 */
import { parseArgs } from 'node:util';
import { Engine, checkInvariants } from '../engine/core/index.js';
import { MarketSim, MarketStats, defaultUniverse } from '../engine/sim/index.js';

const { values: argv } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '4' },
    symbols: { type: 'string', default: '20' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (argv.help) {
  console.log('usage: tsx scripts/sim-stats.ts [--json] [--seed N] [--days N] [--symbols N (1-20)]');
  process.exit(0);
}
const seed = Number(argv.seed);
const days = Number(argv.days);
const nSym = Number(argv.symbols);
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(days) || days < 1 || !Number.isSafeInteger(nSym) || nSym < 1 || nSym > 20)
  throw new Error('--seed must be an integer, --days >= 1, --symbols 1-20');

const START = Date.UTC(2025, 0, 6); // a Monday; the sim starts at its 14:30 UTC open
const u = defaultUniverse();
const universe = nSym === u.instruments.length ? u : { instruments: u.instruments.slice(0, nSym), index: null };
const engine = new Engine();
const sim = new MarketSim({ seed, startTs: START, universe });
const stats = new MarketStats(sim.universe.instruments, (a) => a !== undefined && sim.isAgentAccount(a));
for (const c of sim.setupCommands()) sim.observe(engine.execute(c));

const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let ended = 0;
let commands = 0;
while (ended < days) {
  const cmds = sim.step(engine);
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i]!;
    const ev = engine.execute(c);
    sim.observe(ev);
    stats.onEvents(ev);
    if (c.type === 'EndSession') ended++;
  }
  commands += cmds.length;
  if (sim.inSession) stats.sample(sim.now, engine);
}
const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSec = (cpu.user + cpu.system) / 1e6;
const violations = checkInvariants(engine);
const r = stats.result();

const round = (x: number, d = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const checks = {
  returnsKurtosisAbove3: r.returnsKurtosis > 3,
  absReturnAutocorrLag1Above0_1: r.absReturnAutocorrLag1 > 0.1,
  medianSpreadTicksAtLeast1: r.medianSpreadTicks >= 1,
  crossedBooksZero: r.crossedBooks === 0,
  priceBandBreachesZero: r.priceBandBreaches === 0,
  invariantsHold: violations.length === 0,
};
const out = {
  script: 'sim-stats',
  seed,
  days,
  symbols: universe.instruments.length,
  returnsKurtosis: round(r.returnsKurtosis),
  absReturnAutocorrLag1: round(r.absReturnAutocorrLag1),
  medianSpreadTicks: r.medianSpreadTicks,
  crossedBooks: r.crossedBooks,
  tradesPerSymbolPerMinute: round(r.tradesPerSymbolPerMinute, 2),
  priceBandBreaches: r.priceBandBreaches,
  pooledKurtosis: round(r.pooledKurtosis),
  returnAutocorrLag1: round(r.returnAutocorrLag1),
  twoSidedPct: round(r.twoSidedPct, 4),
  bandRejections: r.bandRejections,
  tradesAtBandEdge: r.tradesAtBandEdge,
  sessionMinutes: r.sessionMinutes,
  trades: r.trades,
  commands,
  agentOrders: sim.counters.agentOrders,
  agentRejections: sim.counters.rejections,
  invariantViolations: violations.length,
  stateHash: engine.stateHash(),
  wallSeconds: round(wallSec, 1),
  cpuSeconds: round(cpuSec, 1),
  perSymbol: r.perSymbol.map((p) => ({
    symbol: p.symbol,
    kurtosis: round(p.kurtosis, 2),
    absAcf1: round(p.absReturnAutocorrLag1),
    acf1: round(p.returnAutocorrLag1),
    dailyVol: round(p.realizedDailyVol, 4),
    trades: p.trades,
    spreadTicks: p.medianSpreadTicks,
  })),
  checks,
  pass: Object.values(checks).every((x) => x),
};

if (!argv.json) {
  const ok = (b: boolean): string => (b ? 'ok ' : 'FAIL');
  console.log(`sim:stats  seed ${seed}, ${days} sessions x ${out.symbols} symbols, ${commands.toLocaleString('en-US')} commands in ${out.wallSeconds} s (cpu ${out.cpuSeconds} s)`);
  console.log(`  ${ok(checks.returnsKurtosisAbove3)} returnsKurtosis          ${out.returnsKurtosis}   (raw, median over symbols; normal = 3; pooled ${out.pooledKurtosis})`);
  console.log(`  ${ok(checks.absReturnAutocorrLag1Above0_1)} absReturnAutocorrLag1    ${out.absReturnAutocorrLag1}   (> 0.1: volatility clustering; raw returns ${out.returnAutocorrLag1})`);
  console.log(`  ${ok(checks.medianSpreadTicksAtLeast1)} medianSpreadTicks        ${out.medianSpreadTicks}   (two-sided ${out.twoSidedPct} % of samples)`);
  console.log(`  ${ok(checks.crossedBooksZero)} crossedBooks             ${out.crossedBooks}`);
  console.log(`      tradesPerSymbolPerMinute ${out.tradesPerSymbolPerMinute}`);
  console.log(`  ${ok(checks.priceBandBreachesZero)} priceBandBreaches        ${out.priceBandBreaches}   (PRICE_OUT_OF_BAND ${out.bandRejections}, trades at the band edge ${out.tradesAtBandEdge})`);
  console.log(`  ${ok(checks.invariantsHold)} engine invariants        ${violations.length === 0 ? 'hold' : violations.slice(0, 3).join(' | ')}`);
  console.log('  symbol  kurt   |r|acf1  r acf1  daily vol  trades  spread');
  for (const p of out.perSymbol)
    console.log(`  ${p.symbol.padEnd(6)} ${String(p.kurtosis).padStart(6)} ${String(p.absAcf1).padStart(7)} ${String(p.acf1).padStart(7)} ${(p.dailyVol * 100).toFixed(2).padStart(8)} % ${String(p.trades).padStart(7)} ${String(p.spreadTicks).padStart(6)}`);
}
console.log(JSON.stringify(out));
process.exitCode = out.pass ? 0 : 1;
