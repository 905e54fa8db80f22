/**
 * Long seeded stress run of the engine with invariant checks after every command.
 *   npm run stress -- [--commands 1000000] [--accounts 1000] [--symbols 10] [--seed 1] [--check-every 1] [--json]
 */
import { runStress } from '../engine/testing/stress.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const json = process.argv.includes('--json');
const opts = {
  seed: arg('seed', 1),
  commands: arg('commands', 1_000_000),
  accounts: arg('accounts', 1_000),
  symbols: arg('symbols', 10),
  fullCheckEvery: arg('check-every', 1),
};
const t0 = process.hrtime.bigint();
const r = runStress(opts);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const out = {
  ...opts,
  commandsRun: r.commands,
  events: r.events,
  trades: r.trades,
  maxLiveOrders: r.maxLiveOrders,
  fullChecks: r.fullChecks,
  violations: r.violations.length,
  firstViolations: r.violations.slice(0, 5),
  rejections: r.rejections,
  eventCounts: r.eventCounts,
  stateHash: r.stateHash,
  seconds: Math.round(seconds * 10) / 10,
};
if (!json) {
  console.log(`stress: ${out.commandsRun} commands over ${opts.accounts} accounts and ${opts.symbols} symbols, seed ${opts.seed}`);
  console.log(`  trades ${out.trades}, events ${out.events}, max live orders ${out.maxLiveOrders}, full checks ${out.fullChecks}`);
  console.log(`  rejections ${JSON.stringify(out.rejections)}`);
  console.log(`  violations ${out.violations}${out.violations ? ': ' + out.firstViolations.join(' | ') : ''}`);
  console.log(`  ${out.seconds} s, state ${out.stateHash}`);
}
console.log(JSON.stringify(out));
process.exitCode = r.violations.length === 0 ? 0 : 1;
