/**
 * The process's own figures for /metrics, under the names Prometheus' client libraries use
 * (`process_*`, `nodejs_*`), so an operator's usual dashboards and alerts read them: CPU, memory, open
 * files, start time, the JavaScript heap. And the size of each database file (`tradedesk_db_file_bytes`),
 * which a disk-space alert needs: the journal and the history grow with every order.
 *
 * All are read when /metrics is scraped, none on the order path. The memory and file figures are read
 * from /proc on Linux; elsewhere they are left out (as the client libraries do), except the resident
 * memory, which Node gives everywhere.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { Registry } from './metrics.js';

/** Fields of /proc/self/stat after the command name (which may hold spaces): [0] is the state. */
function procStat(): string[] | undefined {
  try {
    const s = readFileSync('/proc/self/stat', 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The soft limit on open files (`Max open files` in /proc/self/limits); Infinity for unlimited. */
function maxFds(): number {
  const m = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (m === null) return NaN;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** A file's size, with its `-wal` beside it (SQLite's write-ahead log, part of the database until checkpointed). */
function fileBytes(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      n += statSync(p).size;
    } catch {
      // absent (a WAL checkpointed away, a file not yet made)
    }
  }
  return n;
}

/**
 * Registers the process's figures and the database files' sizes. `files` names each database file by the
 * `file` label (venue, history, users).
 */
export function registerProcessMetrics(metrics: Registry, files: Record<string, string>): void {
  const linux = process.platform === 'linux' && existsSync('/proc/self/stat');
  metrics.counter('process_cpu_user_seconds_total', 'User CPU time spent by the process (all its threads), seconds', undefined, () => process.cpuUsage().user / 1e6);
  metrics.counter('process_cpu_system_seconds_total', 'System CPU time spent by the process (all its threads), seconds', undefined, () => process.cpuUsage().system / 1e6);
  metrics.counter('process_cpu_seconds_total', 'User and system CPU time spent by the process (all its threads), seconds', undefined, () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  metrics.gauge('process_start_time_seconds', 'When the process started (Unix seconds)', undefined, () => startTime);
  metrics.gauge('process_resident_memory_bytes', 'Resident memory (RSS), bytes', undefined, () => process.memoryUsage.rss());
  if (linux) {
    // /proc/self/stat: vsize is field 23, rss 24, counted from the pid as 1; here from the state as 0.
    metrics.gauge('process_virtual_memory_bytes', 'Virtual memory size, bytes', undefined, () => Number(procStat()?.[20]));
    metrics.gauge('process_open_fds', 'Open file descriptors (sockets, database files, pipes)', undefined, () => readdirSync('/proc/self/fd').length);
    metrics.gauge('process_max_fds', 'The limit on open file descriptors', undefined, maxFds);
    metrics.gauge('process_threads', 'Threads of the process (the event loop, the history and audit writers, the thread pool, V8)', undefined, () => Number(procStat()?.[17]));
  }
  metrics.gauge('nodejs_heap_size_total_bytes', "The event loop's JavaScript heap: its size, bytes", undefined, () => process.memoryUsage().heapTotal);
  metrics.gauge('nodejs_heap_size_used_bytes', "The event loop's JavaScript heap: in use, bytes", undefined, () => process.memoryUsage().heapUsed);
  metrics.gauge('nodejs_heap_size_limit_bytes', "The event loop's JavaScript heap: its limit, bytes", undefined, () => getHeapStatistics().heap_size_limit);
  metrics.gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (buffers, sockets), bytes', undefined, () => process.memoryUsage().external);
  metrics.gauge('nodejs_active_resources', 'Handles and requests keeping the event loop alive (sockets, timers, file operations)', undefined, () => process.getActiveResourcesInfo().length);
  metrics.gauge('nodejs_version_info', 'Node.js version', { version: process.version }, () => 1);
  // (by role, not path: /metrics may be open to whoever reaches the port, and the paths are the operator's)
  for (const [file, path] of Object.entries(files))
    metrics.gauge('tradedesk_db_file_bytes', 'Size of a database file with its write-ahead log, bytes', { file }, () => fileBytes(path));
}
