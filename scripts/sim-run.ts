/**
 * Runs the simulated market live in the terminal (an in-memory engine, no venue): the Node side of the clock
 * control, and a quick way to watch the market.
 *
 *   npm run sim:run                                 real time, 30 s
 *   npm run sim:run -- --speed 100 --seconds 20     ×100
 *   npm run sim:run -- --speed max --seconds 10     as fast as possible
 *   npm run sim:run -- --warmup 30                  generate 30 days of history first; the live market starts
 *                                                   from the history's last closes
 * Every wall second it prints the simulated time, the SIM10 index and a few quotes.
 */
import { parseArgs } from 'node:util';
import { Engine } from '../engine/core/index.js';
import { MarketSim, SimDriver, defaultUniverse, formatIso, generateHistory, type Scheduler, type Speed } from '../engine/sim/index.js';

const { values: argv } = parseArgs({
  options: {
    speed: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0' },
    symbols: { type: 'string', default: 'NMQL,QZMT,GLMS' },
  },
  strict: true,
});
const speed: Speed = argv.speed === 'max' ? 'max' : Number(argv.speed);
const seed = Number(argv.seed);
const start = Date.UTC(2025, 0, 6);
let universe = defaultUniverse();
if (Number(argv.warmup) > 0) {
  const t0 = performance.now();
  const h = generateHistory({ seed, universe, days: Number(argv.warmup), endBefore: start, anchor: 'start' });
  universe = h.universe;
  let n = 0;
  for (const b of h.bars.values()) n += b.length;
  console.log(`warm-up: ${n} one-minute bars in ${Math.round(performance.now() - t0)} ms; the market opens at the last closes`);
}
const engine = new Engine();
const sim = new MarketSim({ seed, startTs: start, universe });
for (const c of sim.setupCommands()) sim.observe(engine.execute(c));
const scheduler: Scheduler = {
  now: () => performance.now(),
  schedule: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
const driver = new SimDriver({ sim, view: engine, scheduler, speed, exec: (cmds) => cmds.map((c) => engine.execute(c)) });
const watch = argv.symbols.split(',');
const money = (p: number | null): string => (p === null ? '-' : (p / 100).toFixed(2));
const show = (): void => {
  const idx = engine.index('SIM10');
  const qs = watch.map((s) => {
    const q = engine.quote(s);
    return q === undefined ? s : `${s} ${money(q.bid)}/${money(q.ask)} last ${money(q.last)}`;
  });
  console.log(`${formatIso(sim.now)}  SIM10 ${idx ? (idx.value / 100).toFixed(2) : '-'}  ${qs.join('  ')}  (${sim.counters.agentOrders} agent orders)`);
};
const cpu0 = process.cpuUsage();
const t0 = performance.now();
driver.start();
const timer = setInterval(show, 1000);
setTimeout(() => {
  driver.stop();
  clearInterval(timer);
  show();
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  console.log(`${driver.steps} steps in ${wall.toFixed(1)} s at speed ${String(speed)}; process CPU ${((100 * (cpu.user + cpu.system)) / 1e6 / wall).toFixed(2)} % of one core`);
}, Number(argv.seconds) * 1000);
