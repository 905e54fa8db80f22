/**
 * Runs INSIDE a private D-Bus session with an unlocked gnome-keyring (see keyring.test.ts): the app's
 * credential store must pick keytar, keep secrets in the keyring, and a canary secret stored through the
 * app (a window calling hub.credentials.set) must not appear in any file of the user-data folder.
 * Prints one JSON line with what it saw.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ProtocolClient, createPortPair } from '../../../engine/protocol/index.js';
import { buildServer } from '../../../server/src/app.js';
import { ServerKey } from '../../../server/src/auth/crypto.js';
import { FAST_ARGON2, createUser, setupAdmin, type TestServer } from '../../../server/test/helpers.js';
import { startDesktopCore } from '../../src/core.js';
import { createCredentialStore } from '../../src/credentials/factory.js';

const userDataDir = process.argv[2]!;
const canary = `canary-${process.pid}-${Date.now()}-Zq8`;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  const service = `TradeDesk-test-${process.pid}`;
  const store = await createCredentialStore({ userDataDir, service });
  const result: Record<string, unknown> = { backend: store.backend };

  // the store itself: set, read, presence, delete, and another instance (another app start) sees the keyring
  await store.set('p1/apiKey', 'first');
  const again = await createCredentialStore({ userDataDir, service });
  result.roundTrip = (await again.get('p1/apiKey')) === 'first';
  result.hasBeforeDelete = await store.has('p1/apiKey');
  result.deleted = await store.delete('p1/apiKey');
  result.hasAfterDelete = await store.has('p1/apiKey');

  // through the app: a window stores an API key for a firm profile
  const core = await startDesktopCore({ userDataDir, host: 'headless', credentials: store, seed: 3, speed: 1, paused: true, warmupDays: 1 });
  const [windowEnd, hubEnd] = createPortPair({ serialize: true });
  core.hub.attach(hubEnd, { windowId: 'w', panel: 'workspace' });
  const w = new ProtocolClient(windowEnd);
  await w.connect({ client: 'keyring-test' });
  const p = await w.call('hub.profiles.save', { name: 'Firm', url: 'https://firm.example', username: 'alice' });
  await w.call('hub.credentials.set', { profileId: p.id, kind: 'apiKey', secret: canary });
  const listed = await w.call('hub.profiles.list');
  result.listedHasApiKey = listed.profiles.find((x) => x.id === p.id)?.hasApiKey === true;
  result.canaryInReplies = JSON.stringify(listed).includes(canary);
  result.inKeyring = (await store.get(`${p.id}/apiKey`)) === canary;
  await w.call('hub.link.set', { group: 'red', symbol: 'ACME' });

  // a sign-in to a real firm server: the password is used once, the refresh token goes to the keyring
  const serverDir = mkdtempSync(join(tmpdir(), 'tdkeyring-srv-'));
  const app = buildServer({ db: join(serverDir, 'venue.db'), logLevel: 'silent', sim: 'off', rendererDir: join(serverDir, 'none'), auth: { argon2: FAST_ARGON2 } }, { serverKey: ServerKey.forTests() });
  const { port } = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const ts: TestServer = { app, url, wsUrl: `ws://127.0.0.1:${port}/ws`, origin: url, dir: serverDir, stop: () => app.close() };
  const admin = await setupAdmin(ts);
  await createUser(ts, admin, 'bob', 'trader'); // password: the helpers' PASSWORD
  const firm = await w.call('hub.profiles.save', { name: 'Real firm', url });
  const status = await w.call('hub.login', { profileId: firm.id, username: 'bob', password: 'correct horse battery staple', remember: true });
  result.firmConnected = status.state === 'connected';
  const refreshToken = await store.get(`${firm.id}/refreshToken`);
  result.refreshTokenInKeyring = typeof refreshToken === 'string' && refreshToken.length > 20;
  await w.call('hub.connect', { profileId: 'local' });
  w.close();
  await core.close();
  await app.close();
  rmSync(serverDir, { recursive: true, force: true });

  const files = filesUnder(userDataDir);
  const secrets = [canary, 'correct horse battery staple', refreshToken ?? 'missing'];
  const needles = secrets.flatMap((x) => [x, Buffer.from(x, 'utf16le').toString('latin1'), Buffer.from(x).toString('base64')]);
  result.files = files.map((f) => f.slice(userDataDir.length + 1)).sort();
  result.filesWithCanary = files.filter((f) => {
    const text = readFileSync(f).toString('latin1');
    return needles.some((n) => text.includes(n));
  });
  // clean up the test service's entries
  for (const a of await store.accounts()) await store.delete(a);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.stack : String(e) })}\n`);
    process.exit(1);
  },
);
