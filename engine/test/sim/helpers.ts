// Shared harness for the simulated-market tests: an Engine as the sink, every event fed back to the sim (and
// optionally to a MarketStats), and a running hash of every command and event for determinism checks.
import { Engine, hashText, type Command, type EngineEvent } from '../../core/index.js';
import { MarketSim, MarketStats, defaultUniverse, type SimConfig, type Universe } from '../../sim/index.js';

/** Monday 2025-01-06 00:00 UTC: the sim starts at that day's open (14:30 UTC). */
export const MONDAY = Date.UTC(2025, 0, 6);

export interface Run {
  engine: Engine;
  sim: MarketSim;
  stats: MarketStats;
  /** Hash over every command and every event, in order (with hashLog: true). */
  logHash: () => string;
  commands: Command[];
  /** Runs `n` steps (sampling stats while the session is open). */
  steps: (n: number) => void;
  /** Runs until `n` more sessions have ended. */
  sessions: (n: number) => void;
  exec: (c: Command) => EngineEvent[];
}

/** A universe of the first n default instruments (the index over them when n >= 10, else none). */
export function smallUniverse(n: number): Universe {
  const u = defaultUniverse();
  const instruments = u.instruments.slice(0, n);
  return { instruments, index: null };
}

export function startRun(cfg: Partial<SimConfig> & { keepCommands?: boolean; hashLog?: boolean; candleHistory?: number } = {}): Run {
  const engine = new Engine({ candleHistory: cfg.candleHistory ?? 240 });
  const sim = new MarketSim({ seed: 1, startTs: MONDAY, ...cfg });
  const stats = new MarketStats(sim.universe.instruments, (a) => a !== undefined && sim.isAgentAccount(a));
  const parts: string[] = [];
  let h = '';
  const commands: Command[] = [];
  const exec = (c: Command): EngineEvent[] => {
    const ev = engine.execute(c);
    sim.observe(ev);
    stats.onEvents(ev);
    if (cfg.hashLog === true) {
      parts.push(JSON.stringify(c), JSON.stringify(ev));
      if (parts.length > 2000) h = hashText(h + parts.splice(0).join('\n'));
    }
    if (cfg.keepCommands === true) commands.push(c);
    return ev;
  };
  for (const c of sim.setupCommands()) exec(c);
  const step = (): number => {
    let ended = 0;
    for (const c of sim.step(engine)) {
      exec(c);
      if (c.type === 'EndSession') ended++;
    }
    if (sim.inSession) stats.sample(sim.now, engine);
    return ended;
  };
  return {
    engine,
    sim,
    stats,
    commands,
    exec,
    logHash: () => hashText(h + parts.join('\n')),
    steps: (n) => {
      for (let i = 0; i < n; i++) step();
    },
    sessions: (n) => {
      let ended = 0;
      while (ended < n) ended += step();
    },
  };
}
