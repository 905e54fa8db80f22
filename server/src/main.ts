/**
 * Entry point: `tradedesk-server [flags]` (the bundle of `npm run build:server`, server/dist/main.js, which
 * `npm run server -- [flags]` builds and runs) or `npm run server:dev -- [flags]` from the source (see --help). Parses flags, environment and config file,
 * builds the server, listens, prints the first-admin setup token when no admin exists, and shuts down
 * gracefully on SIGINT/SIGTERM: stop accepting, close WebSockets with 1001, drain in-flight requests and
 * acknowledgements, snapshot the venue, close the databases.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { buildServer, type App } from './app.js';
import { HELP, OWASP_ARGON2ID_MIN, argon2Warning, loadConfig, type Config } from './config.js';
import { StaticFiles } from './http/static.js';
import { resetAdmin } from './reset-admin.js';
import { restoreBackup } from './restore.js';
import { permissionsWarning, setupCommand } from './per-os.js';
import { stopSignals } from '../../engine/host/signals.js';

/**
 * A log reader that goes away (a shipper restarting, `| head`) must not take the exchange down with it:
 * stdout/stderr write errors (EPIPE) are dropped, the venue keeps serving and its journal stays the record.
 */
function keepServingWithoutLogReader(): void {
  const ignore = (stream: NodeJS.WriteStream) => stream.on('error', () => undefined);
  ignore(process.stdout);
  ignore(process.stderr);
}

/**
 * Writes the setup token to `file`, mode 0600, or says why it did not (the token is printed anyway, and a
 * server already listening goes on). A link there is refused, not replaced or followed (it might be
 * /dev/stdout, or lead anywhere). The token is written whole into a new file beside it, renamed over it, so a
 * reader that sees the file sees the token; when the folder cannot be written to (a file made beforehand for
 * the service's user in a folder owned by root), into the file itself: truncated, made 0600, then written.
 */
function writeSetupToken(file: string, token: string): string | undefined {
  const text = token + '\n';
  try {
    if (lstatSync(file).isSymbolicLink()) return 'it is a symbolic link';
  } catch {
    // not there yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
    return undefined;
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return String((e as Error).message);
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ELOOP' ? 'it is a symbolic link' : String((e as Error).message);
  }
  try {
    if (!fstatSync(fd).isFile()) return 'it is not a regular file';
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    return undefined;
  } catch (e) {
    return String((e as Error).message);
  } finally {
    closeSync(fd);
  }
}

/**
 * A subcommand, `tradedesk-server <name> <arg> [flags]`: its lines on stdout and exit 0; exit 1 with why
 * when it is refused or fails; exit 2 with the help when it is not given its argument or its flags are wrong.
 */
async function subcommand(name: string, argv: readonly string[], missing: string, run: (arg: string, config: Config, flags: readonly string[]) => string[] | Promise<string[]>): Promise<never> {
  const [arg, ...flags] = argv;
  let loaded;
  try {
    if (arg === undefined || arg.startsWith('-')) throw new Error(`${name}: ${missing}`);
    loaded = loadConfig(flags, process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  try {
    const lines = await run(arg, loaded.config, flags);
    process.stdout.write(lines.join('\n') + '\n');
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/** `tradedesk-server restore <backup folder> [flags]` (server/src/restore.ts). */
const restore = (argv: readonly string[]): Promise<never> =>
  subcommand('restore', argv, 'name the backup folder', (from, config, flags) => {
    const r = restoreBackup(from, config);
    return [
      `Restored backup ${r.manifest.name} (up to command ${r.manifest.seq}, made ${r.manifest.createdAt}):`,
      ...r.files.map((f) => `  ${f.role.padEnd(8)} ${f.to}`),
      ...r.warnings.map((w) => `Warning: ${w}`),
      `Start the server with the same flags${flags.length > 0 ? ` (${flags.join(' ')})` : ''}.`,
    ];
  });

/** `tradedesk-server reset-admin <username> [flags]` (server/src/reset-admin.ts). */
const resetAdminCommand = (argv: readonly string[]): Promise<never> =>
  subcommand('reset-admin', argv, 'name the admin', async (username, config) => {
    const r = await resetAdmin(username, config);
    return [
      `${r.username} can sign in with this temporary password, once, and must then choose a new one:`,
      '',
      `  ${r.password}`,
      '',
      `${r.twoFactorWasOn ? 'Their two-factor authentication is off (they may turn it on again). ' : ''}${r.sessionsRevoked > 0 ? `${r.sessionsRevoked} session(s) of theirs were revoked. ` : ''}Start the server again.`,
    ];
  });

/** How soon a repeat of the signal that began the stop is taken as the same one (see main). */
const REPEAT_MS = 1_000;

async function main(): Promise<void> {
  keepServingWithoutLogReader();
  if (process.argv[2] === 'restore') await restore(process.argv.slice(3));
  if (process.argv[2] === 'reset-admin') await resetAdminCommand(process.argv.slice(3));
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (loaded.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  // The stop signals are handled from before the server is built: without a handler a signal ends the process
  // at once, and one while it starts (the simulated market's warm-up: seconds on a first start) cut its set-up
  // part way. Now such a signal stops it gracefully once it is set up (the handler runs when the start-up's
  // synchronous work is done), so what it imports is whole.
  // A second signal exits at once, but not a repeat of the first within a second: under tsx (npm run
  // server:dev) one signal to the process group reaches node from the group and again from tsx, which
  // relays it when node has not told it within 30 ms that it got it.
  let app: App | undefined = undefined; // (assigned below: the handlers are installed first)
  let started: Promise<unknown> = Promise.resolve();
  let stopping: { signal: string; at: number } | undefined;
  const stop = (signal: string): void => {
    if (app === undefined) process.exit(1); // (not built: a handler runs only after buildServer returns or throws)
    const log = app.log;
    if (stopping !== undefined) {
      if (signal === stopping.signal && performance.now() - stopping.at < REPEAT_MS) return void log.debug('signal repeated: still stopping', { signal });
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = { signal, at: performance.now() };
    log.info('signal', { signal });
    const running = app;
    const close = (): Promise<void> => running.close();
    started.then(close, close).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { err: e });
        process.exit(1);
      },
    );
  };
  for (const signal of stopSignals()) process.on(signal, () => stop(signal));
  app = buildServer(loaded.config);
  const listening = app.listen();
  started = listening;
  const { url } = await listening;
  // the Node version and flags, so an operator sees whether the production flags are in effect
  app.log.info('listening', {
    url,
    db: app.config.db,
    sync: app.config.sync,
    registration: app.config.registration,
    // how a request's address is read (audit log, throttles, caps), and the background threads' priority
    trustedProxies: app.config.trustedProxies,
    proxyHeader: app.config.proxyHeader,
    backgroundNice: app.config.backgroundNice,
    node: process.version,
    nodeFlags: process.execArgv,
  });

  // without the renderer's build the API works, but / answers 404: said once, with where it was looked for
  const web = new StaticFiles(app.config.rendererDir);
  if (!web.available) app.log.warn('no web build: the browser UI is not served at / (npm run build:renderer makes it; --renderer-dir names another folder)', { rendererDir: web.root });
  const permissions = permissionsWarning();
  if (permissions !== undefined) app.log.warn(permissions);
  const weakHashing = argon2Warning(app.config.auth.argon2);
  if (weakHashing !== undefined) app.log.warn(weakHashing, { argon2: app.config.auth.argon2, minimum: OWASP_ARGON2ID_MIN });
  if (app.setupToken !== undefined && stopping === undefined) {
    // Printed once, to stderr only (not the JSON log). It lets one person create the first admin with a
    // password of their own; it dies with this process and after its first use.
    process.stderr.write(
      [
        '',
        '==================================================================',
        ' No admin exists yet. Create the first admin with this one-time token:',
        '',
        `   ${app.setupToken}`,
        '',
        ...setupCommand(url),
        '==================================================================',
        '',
      ].join('\n'),
    );
    const tokenFile = app.config.setupTokenFile;
    if (tokenFile !== undefined) {
      const why = writeSetupToken(tokenFile, app.setupToken);
      if (why !== undefined) app.log.error('setup token file not written (the token is on stderr)', { file: tokenFile, reason: why });
    }
  }

}

main().catch((e: unknown) => {
  process.stderr.write(`tradedesk server failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
