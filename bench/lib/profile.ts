import { Session } from 'node:inspector/promises';

/**
 * In-process CPU profiling of chosen code windows through the inspector protocol (the same profiles as
 * `node --cpu-prof`, viewable in Chrome DevTools or speedscope), plus a self-time summary, so a bench can
 * profile just its timed loops rather than the whole process.
 */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export class CpuProfiler {
  private session: Session | null = null;

  /** Starts sampling every `intervalUs` microseconds. */
  async start(intervalUs = 100): Promise<void> {
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await s.post('Profiler.start');
    this.session = s;
  }

  async stop(): Promise<CpuProfile> {
    const s = this.session;
    if (s === null) throw new Error('profiler not started');
    const { profile } = (await s.post('Profiler.stop')) as { profile: CpuProfile };
    await s.post('Profiler.disable');
    s.disconnect();
    this.session = null;
    return profile;
  }
}

export interface SelfTime {
  /** Function name, or (anonymous) / (garbage collector) / (program) / (idle). */
  fn: string;
  /** Source file, relative to `root` when under it ('' for VM entries). */
  file: string;
  ms: number;
  /** Percentage of all sampled time in the profiles. */
  pct: number;
}

/**
 * Self time per function (summed over several profiles), highest first. Functions V8 inlined are counted in
 * their caller, as in any sampling profile of optimised code.
 */
export function selfTimes(profiles: readonly CpuProfile[], root = ''): SelfTime[] {
  const acc = new Map<string, { fn: string; file: string; us: number }>();
  let total = 0;
  for (const p of profiles) {
    const byId = new Map<number, ProfileNode>();
    for (const n of p.nodes) byId.set(n.id, n);
    for (let i = 0; i < p.samples.length; i++) {
      const n = byId.get(p.samples[i]!);
      if (n === undefined) continue;
      // the first delta runs from the profile's start (inside the inspector's own dispatch): not a sample
      const dt = i === 0 ? 0 : (p.timeDeltas[i] ?? 0);
      total += dt;
      const fn = n.callFrame.functionName || '(anonymous)';
      let file = n.callFrame.url.replace(/^file:\/\//, '');
      if (root !== '' && file.startsWith(root)) file = file.slice(root.length).replace(/^\//, '');
      const key = `${fn}\u0000${file}`;
      const e = acc.get(key);
      if (e === undefined) acc.set(key, { fn, file, us: dt });
      else e.us += dt;
    }
  }
  return [...acc.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ fn: e.fn, file: e.file, ms: e.us / 1e3, pct: total > 0 ? (100 * e.us) / total : 0 }));
}
