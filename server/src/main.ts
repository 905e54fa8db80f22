/**
 * Entry point: `tradedesk-server [flags]` (the bundle of `npm run build:server`, server/dist/main.js, which
 * `npm run server -- [flags]` builds and runs) or `npm run server:dev -- [flags]` from the source (see --help). Parses flags, environment and config file,
 * builds the server, listens, prints the first-admin setup token when no admin exists, and shuts down
 * gracefully on SIGINT/SIGTERM: stop accepting, close WebSockets with 1001, drain in-flight requests and
 * acknowledgements, snapshot the venue, close the databases.
 */
import { writeFileSync } from 'node:fs';
import { buildServer } from './app.js';
import { HELP, loadConfig } from './config.js';
import { resetAdmin } from './reset-admin.js';
import { restoreBackup } from './restore.js';

/**
 * A log reader that goes away (a shipper restarting, `| head`) must not take the exchange down with it:
 * stdout/stderr write errors (EPIPE) are dropped, the venue keeps serving and its journal stays the record.
 */
function keepServingWithoutLogReader(): void {
  const ignore = (stream: NodeJS.WriteStream) => stream.on('error', () => undefined);
  ignore(process.stdout);
  ignore(process.stderr);
}

/** `tradedesk-server restore <backup folder> [flags]` (server/src/restore.ts): 0 restored, 1 refused or failed, 2 usage. */
function restore(argv: readonly string[]): never {
  const [from, ...flags] = argv;
  let loaded;
  try {
    if (from === undefined || from.startsWith('-')) throw new Error('restore: name the backup folder');
    loaded = loadConfig(flags, process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  try {
    const r = restoreBackup(from, loaded.config);
    const lines = [
      `Restored backup ${r.manifest.name} (up to command ${r.manifest.seq}, made ${r.manifest.createdAt}):`,
      ...r.files.map((f) => `  ${f.role.padEnd(8)} ${f.to}`),
      ...r.warnings.map((w) => `Warning: ${w}`),
      `Start the server with the same flags${flags.length > 0 ? ` (${flags.join(' ')})` : ''}.`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.exit(0);
  } catch (e) {
    process.stderr.write(`restore: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/** `tradedesk-server reset-admin <username> [flags]` (server/src/reset-admin.ts): 0 reset, 1 refused or failed, 2 usage. */
async function resetAdminCommand(argv: readonly string[]): Promise<never> {
  const [username, ...flags] = argv;
  let loaded;
  try {
    if (username === undefined || username.startsWith('-')) throw new Error('reset-admin: name the admin');
    loaded = loadConfig(flags, process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  try {
    const r = await resetAdmin(username, loaded.config);
    process.stdout.write(
      [
        `${r.username} can sign in with this temporary password, once, and must then choose a new one:`,
        '',
        `  ${r.password}`,
        '',
        `${r.twoFactorWasOn ? 'Their two-factor authentication is off (they may turn it on again). ' : ''}${r.sessionsRevoked > 0 ? `${r.sessionsRevoked} session(s) of theirs were revoked. ` : ''}Start the server again.`,
      ].join('\n') + '\n',
    );
    process.exit(0);
  } catch (e) {
    process.stderr.write(`reset-admin: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  keepServingWithoutLogReader();
  if (process.argv[2] === 'restore') restore(process.argv.slice(3));
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
  const app = buildServer(loaded.config);
  const { url } = await app.listen();
  // the Node version and flags, so an operator sees whether the production flags are in effect
  app.log.info('listening', { url, db: app.config.db, sync: app.config.sync, registration: app.config.registration, node: process.version, nodeFlags: process.execArgv });

  if (app.setupToken !== undefined) {
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
        ` curl -X POST ${url}/api/v1/auth/setup -H 'Content-Type: application/json' \\`,
        `   -d '{"setupToken":"<token>","username":"admin","password":"<your password>"}'`,
        '==================================================================',
        '',
      ].join('\n'),
    );
    if (app.config.setupTokenFile !== undefined) writeFileSync(app.config.setupTokenFile, app.setupToken + '\n', { mode: 0o600 });
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      app.log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    app.log.info('signal', { signal });
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        app.log.error('shutdown failed', { err: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`tradedesk server failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
