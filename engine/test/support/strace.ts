/**
 * Reading `strace -f -y` logs in tests that check what a program asks of the OS (which descriptor it syncs,
 * in what order it writes, syncs and renames): what can be seen on Linux of behaviour other systems need.
 */

/**
 * The calls of an `strace -f` log (`-o`, one line per call, each starting with the thread's id), the thread
 * id dropped; a call cut in two by another thread (`<unfinished ...>`, then `<... call resumed>`) is joined
 * into one line at the place it ended.
 */
export function straceCalls(log: string): string[] {
  const pending = new Map<string, string>();
  const lines: string[] = [];
  for (const raw of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (m === null) continue;
    const [, tid, rest] = m as unknown as [string, string, string];
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(tid, rest.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed !== null) {
      lines.push((pending.get(tid) ?? '') + resumed[1]);
      pending.delete(tid);
    } else lines.push(rest);
  }
  return lines;
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
