/**
 * The priority of the venue's background threads: the history writer, the audit log's writer and a backup's
 * copy. Their work can wait a few milliseconds; the event loop's (matching, the journal's group commit,
 * acknowledging) cannot. Without this, the scheduler shares the cores evenly: on two cores under order
 * load, the history writer (about half a core) took the core the event loop was waiting for, and an
 * acknowledgement waited out the writer's time slice.
 *
 * On Linux each of those threads lowers its own priority when it starts (a nice value is a thread's own
 * there; raising it needs no privilege). Elsewhere nothing is changed: setpriority() on macOS and Windows
 * would lower the whole process, the event loop's thread included. The history *reader* thread keeps the
 * normal priority: a blotter waits for its answers.
 *
 * A thread lowered this way still gets any core left idle, and the history writer cannot fall behind
 * without bound: a venue whose writer is HistoryThreadOptions.maxLag commands behind waits for it.
 */

/** The default nice value of the background threads (0: as the event loop; 19: lowest). */
export const BACKGROUND_NICE = 10;

let nice = BACKGROUND_NICE;

/** The nice value background threads started from now on take (0-19; 0 leaves them as they are). */
export function setBackgroundNice(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 19) throw new RangeError(`A nice value is an integer from 0 to 19, not ${value}`);
  nice = value;
}

/** The nice value background threads take when they start (workerData of each such thread). */
export function backgroundNice(): number {
  return nice;
}

/**
 * Lowers the calling thread's priority to `value`; returns the thread's id, or 0 when nothing was changed
 * (value 0, not Linux, or refused). It runs inside the worker threads as source, so it is plain JavaScript
 * that is given its modules.
 */
export function lowerThreadPriority(
  fs: { readlinkSync(path: string): string },
  os: { setPriority(pid: number, priority: number): void },
  platform: string,
  value: number,
): number {
  if (!(value > 0) || platform !== 'linux') return 0;
  try {
    // "<pid>/task/<tid>": setpriority(PRIO_PROCESS, tid) sets that thread's nice value alone
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return 0;
    os.setPriority(tid, value);
    return tid;
  } catch {
    return 0; // a container without /proc, or a policy that refuses: the thread runs as before
  }
}

/** The source line a worker script runs first: it lowers its thread to workerData.nice. */
export const LOWER_PRIORITY_SOURCE = `(${lowerThreadPriority.toString()})(require('node:fs'), require('node:os'), process.platform, workerData.nice);`;
