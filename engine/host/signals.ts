/** Stopping a host process on a signal, per operating system. Node layer: no imports. */

/**
 * The signals that stop a host (the exchange server, the desktop's headless host) gracefully (the server
 * closes its sockets with 1001, drains and snapshots): SIGINT (Ctrl+C), SIGTERM (a service manager; never
 * raised on Windows), SIGHUP (its terminal was closed; on Windows its console window was closed, which
 * Windows follows with a kill after about 10 s), and on Windows SIGBREAK (Ctrl+Break). Without a handler
 * each of them ends the process at once. A logoff or a shutdown raises no signal on Windows (libuv maps only
 * the console's close): there a host stops gracefully only as a service whose manager stops it first.
 */
export function stopSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
}
