// engine/sim: the simulated market (agents on the engine), warm-up history, CSV replay, clock control and
// the local simulation account. Pure: time, seeds and I/O are given. See engine/sim/README.md.
export { Random, deriveSeed, type RandomState } from './random.js';
export { Calendar, MS_PER_DAY, MS_PER_MINUTE, type CalendarSpec } from './calendar.js';
export {
  defaultUniverse,
  instrumentSpec,
  roundLot,
  roundTick,
  topIndex,
  universeCommands,
  validateUniverse,
  weightsBps,
  withCloses,
  type IndexSpec,
  type SimInstrument,
  type Universe,
} from './universe.js';
export { Fundamental, MarketFactor, RegimeChain, intradayVol, MODEL, REGIME_MULT, REGIME_NAMES, REGIME_SHARE } from './fairvalue.js';
export {
  CsvError,
  civilFromDays,
  daysFromCivil,
  formatDecimal,
  formatIso,
  formatOhlcvCsv,
  parseDecimal,
  parseOhlcvCsv,
  parseTimestamp,
  type CsvIssue,
  type CsvIssueCode,
  type CsvOptions,
} from './csv.js';
export { ReplayPlan, inferBarMs, type ReplaySpec } from './replay.js';
export { MarketSim, AGENT_PRESETS, DEFAULT_AGENTS, type AgentParams, type AgentRole, type MarketView, type SimConfig, type SimCounters } from './market.js';
export { MarketStats, autocorr, kurtosis, mean, median, type MarketStatsResult, type SymbolStats } from './stats.js';
export { generateHistory, aggregateCandles, indexHistory, type History, type HistoryOptions } from './history.js';
export { SimClock, SimDriver, type ClockOptions, type DriverOptions, type Scheduler, type Speed, type StepExecutor } from './clock.js';
export { openLocalAccount, resetBegin, resetFinish, type AccountSource, type LocalAccountSpec, type ResetFinish } from './account.js';
export { SAMPLE_INSTRUMENT, sampleCsv } from './sample.js';
