/**
 * Reading `strace -f -y` logs in tests that check what a program asks of the OS (which descriptor it syncs,
 * in what order it writes, syncs and renames): what can be seen on Linux of behaviour other systems need.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Runs a TypeScript file of the repository (`script`, from its root, through tsx) under
 * `strace -f -qq -yy -o <log> -e trace=<calls>`, and returns the log and the JSON value the script printed on
 * its last line. Throws saying what went wrong: strace missing (CI installs it), the script failing.
 */
export function runTraced<T>(script: string, args: readonly string[], calls: readonly string[], logFile: string): { log: string; out: T } {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const argv = ['-f', '-qq', '-yy', '-o', logFile, '-e', `trace=${calls.join(',')}`, process.execPath, '--import', 'tsx', script, ...args];
  const run = spawnSync('strace', argv, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined) throw new Error(`strace did not run (apt-get install strace): ${run.error.message}`);
  if (run.status !== 0 || run.stderr !== '') throw new Error(`${script} under strace: exit ${run.status}, stderr: ${run.stderr.slice(0, 2000)}`);
  return { log: readFileSync(logFile, 'utf8'), out: JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T };
}

/**
 * The calls of an `strace -f` log (`-o`, one line per call, each starting with the thread's id), the thread
 * id dropped; a call cut in two by another thread (`<unfinished ...>`, then `<... call resumed>`) is joined
 * into one line at the place it ended.
 */
export function straceCalls(log: string): string[] {
  return straceEvents(log).map((e) => e.call);
}

/** A call of an strace log: its thread, its text (whole), and the log's lines where it began and where it returned. */
export interface StraceEvent {
  tid: number;
  call: string;
  start: number;
  end: number;
}

/**
 * The calls of an `strace -f` log in the order they returned, each with where it began: a call that another
 * thread's calls cut in two began before them and returned after them, so "A returned before B began"
 * (`a.end < b.start`) is what "A happened before B" means.
 */
export function straceEvents(log: string): StraceEvent[] {
  const pending = new Map<string, { text: string; start: number }>();
  const events: StraceEvent[] = [];
  const lines = log.split('\n');
  for (const [i, raw] of lines.entries()) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (m === null) continue;
    const [, tid, rest] = m as unknown as [string, string, string];
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(tid, { text: rest.slice(0, -'<unfinished ...>'.length).trimEnd(), start: i });
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed !== null) {
      const p = pending.get(tid);
      events.push({ tid: Number(tid), call: (p?.text ?? '') + resumed[1], start: p?.start ?? i, end: i });
      pending.delete(tid);
    } else events.push({ tid: Number(tid), call: rest, start: i, end: i });
  }
  return events;
}

export interface Sync {
  call: 'fsync' | 'fdatasync';
  path: string;
  /** The flags the descriptor was opened with (undefined: its open was not seen). */
  flags: string | undefined;
}

/** The syncs in an `strace -f -y` log, each with its descriptor's open flags (from the openat that made it). */
export function syncsIn(log: string): Sync[] {
  const open = new Map<number, string>();
  const syncs: Sync[] = [];
  for (const l of straceCalls(log)) {
    const o = /^openat\([^,]+, "[^"]*", ([A-Z_|]+)(?:, \d+)?\)\s*= (\d+)</.exec(l);
    if (o !== null) {
      open.set(Number(o[2]), o[1]!);
      continue;
    }
    const c = /^close\((\d+)</.exec(l);
    if (c !== null) {
      open.delete(Number(c[1]));
      continue;
    }
    const s = /^(fsync|fdatasync)\((\d+)<([^>]*)>\)\s*= 0/.exec(l);
    if (s !== null) syncs.push({ call: s[1] as Sync['call'], path: s[3]!, flags: open.get(Number(s[2])) });
  }
  return syncs;
}

/** Opened for writing (O_RDWR or O_WRONLY). */
export const writable = (flags: string | undefined): boolean => flags !== undefined && /\bO_(RDWR|WRONLY)\b/.test(flags);
