/**
 * The credential store against the REAL OS keyring: gnome-keyring's Secret Service in a private D-Bus
 * session started by this test (`dbus-run-session` + `gnome-keyring-daemon --unlock`), with HOME in a temp
 * folder so a developer's own keyring is never touched. CI runs as root without a desktop session, so the
 * session is always created here; the keytar checks run in a child process inside it (keyring/child.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const available = have('dbus-run-session') && have('gnome-keyring-daemon');

describe.skipIf(!available && process.env.CI === undefined)('credential store in the OS keyring (gnome-keyring over D-Bus)', () => {
  const tmp = tempDir('tdkeyring-');
  afterAll(() => tmp.remove());

  it('picks keytar, keeps secrets in the keyring; an API key, a sign-in password and the refresh token are in no user-data file', () => {
    const home = join(tmp.dir, 'home');
    const userData = join(tmp.dir, 'userdata');
    mkdirSync(home);
    mkdirSync(userData);
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const child = join(process.cwd(), 'main', 'test', 'keyring', 'child.ts');
    const script = `printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$0" "$1" "$2"`;
    const r = spawnSync('dbus-run-session', ['--', 'sh', '-c', script, tsx, child, userData], {
      env: { ...process.env, HOME: home, XDG_DATA_HOME: join(home, '.local/share'), XDG_RUNTIME_DIR: home, DBUS_SESSION_BUS_ADDRESS: '', DISPLAY: '' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let out: Record<string, unknown>;
    try {
      out = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`keyring child failed (status ${r.status}): ${r.stdout}\n${r.stderr}`);
    }
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({
      backend: 'keytar',
      roundTrip: true,
      hasBeforeDelete: true,
      deleted: true,
      hasAfterDelete: false,
      listedHasApiKey: true,
      canaryInReplies: false,
      inKeyring: true,
      firmConnected: true,
      refreshTokenInKeyring: true,
      filesWithCanary: [],
    });
    // the user-data folder really holds the app's files (the scan looked at something)
    expect(out.files).toEqual(expect.arrayContaining(['profiles.json', 'links.json', 'venue.sqlite']));
  }, 120_000);
});
