/**
 * `npm run host -- [--user-data DIR] [--port N] [--host ADDR] [--renderer-dir DIR] [--seed N] [--speed X]`
 * Starts the headless host and prints its URL (the last line of stdout is the URL alone, for scripts).
 * Without --user-data it uses a fresh temporary folder (removed on exit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startHeadlessHost, type HeadlessHost } from './headless.js';
import { stopSignals } from '../../../engine/host/signals.js';

const USAGE = `Usage: npm run host -- [options]
  --user-data DIR      user-data folder (venue.sqlite, profiles.json, links.json); default: a temporary one
  --port N             port (default 0: any free port)
  --host ADDR          address to listen on (default 127.0.0.1)
  --renderer-dir DIR   the renderer's build (default dist/renderer)
  --seed N             simulated market seed (new venue only)
  --speed X            simulated time per wall time (default 1)
  --quiet              no log lines`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'user-data': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'renderer-dir': { type: 'string' },
      seed: { type: 'string' },
      speed: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  // Every flag is checked before anything starts (the first start warms up weeks of simulated history).
  const port = values.port === undefined ? 0 : integerFlag('port', values.port, 0, 65_535);
  const seed = values.seed === undefined ? undefined : integerFlag('seed', values.seed, 0, 0xffff_ffff);
  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (speed !== undefined && !(Number.isFinite(speed) && speed > 0)) throw new Error(`--speed must be a number above 0 (got ${values.speed})`);
  if (values.host === '') throw new Error('--host must name an address');
  const temp = values['user-data'] === undefined ? mkdtempSync(join(tmpdir(), 'tradedesk-host-')) : undefined;
  const userDataDir = values['user-data'] ?? temp!;
  const quiet = values.quiet === true;
  let host: HeadlessHost;
  try {
    host = await startHeadlessHost({
      userDataDir,
      port,
      host: values.host ?? '127.0.0.1',
      ...(values['renderer-dir'] !== undefined ? { rendererDir: values['renderer-dir'] } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(speed !== undefined ? { speed } : {}),
      log: (level, message, data) => {
        if (!quiet || level === 'error') process.stderr.write(`${JSON.stringify({ level, message, ...data })}\n`);
      },
    });
  } catch (e) {
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  process.stderr.write(`TradeDesk headless host: ${host.url} (user data: ${userDataDir})\n`);
  const addr = values.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(addr)) {
    process.stderr.write(
      `WARNING: listening on ${addr}. The hub has no sign-in of its own: anyone who can reach this address can trade on the local venue and use stored firm sessions. Keep it on 127.0.0.1 unless this network is yours alone.\n`,
    );
  }
  process.stdout.write(`${host.url}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void host.close().finally(() => {
      if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
      process.exit(0);
    });
  };
  for (const signal of stopSignals()) process.on(signal, stop);
}

/** A whole number from `min` to `max`, or an error that names the flag. */
function integerFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max} (got ${v})`);
  return n;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
