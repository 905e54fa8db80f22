/**
 * The desktop's core, the same in the Electron app and the headless host: the local venue
 * (`<userData>/venue.sqlite`) with the live simulated market and the local user's funded account, the
 * profiles, link groups and credential store, and the hub that serves every window. The hosts add only
 * their transport (Electron MessagePorts, or WebSockets) and their windows.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MarketClock, startLiveMarket, type LiveMarket } from '../../engine/live/index.js';
import { AGENT_PRESETS } from '../../engine/sim/index.js';
import { Venue } from '../../engine/venue/index.js';
import { createCredentialStore } from './credentials/factory.js';
import type { SafeStorageLike } from './credentials/safe-storage.js';
import type { CredentialStore } from './credentials/store.js';
import { firmConnector } from './hub/firm.js';
import { Hub, type HubOptions } from './hub/hub.js';
import { LocalUpstream } from './hub/local.js';
import { LinkGroups } from './links.js';
import { ProfileStore } from './profiles.js';
import { APP_VERSION } from './version.js';

/** The local user's account on the local venue, and its starting capital (minor units: $100,000.00). */
export const LOCAL_ACCOUNT_ID = 1;
export const LOCAL_INITIAL_CAPITAL = 10_000_000;
export const DEFAULT_SEED = 20_240_601;

export interface DesktopCoreOptions {
  userDataDir: string;
  host: 'electron' | 'headless';
  version?: string;
  /** Default: createCredentialStore (keytar, then safeStorage, then memory). */
  credentials?: CredentialStore;
  /** Electron's safeStorage, for the credential fallback. */
  safeStorage?: SafeStorageLike;
  /** Simulated market seed (a new venue only; a restart continues). */
  seed?: number;
  /** Simulated time per wall time (1 = real time). */
  speed?: number;
  /** Start the simulated market paused (tests). */
  paused?: boolean;
  /**
   * Where a new simulated market starts (ms since the epoch; default now): tests fix it, so that what they
   * see does not depend on the time of day they run at (within trading hours the market starts there, outside
   * them at the next open).
   */
  simStart?: number;
  /** Warm-up history sessions on first start (default 30). */
  warmupDays?: number;
  /** Desktop only: opens a pop-out window. */
  openWindow?: HubOptions['openWindow'];
  /** Desktop only: saves an export where the user chooses. */
  saveFile?: HubOptions['saveFile'];
  /** Venue durability: 'FULL' (default) fsyncs every commit. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Firm reconnect backoff (tests shorten it). */
  firmBackoff?: { initialMs?: number; maxMs?: number };
  /** How long a connect waits to read a firm profile's stored session (HubOptions.resumeTimeoutMs; tests shorten it). */
  resumeTimeoutMs?: number;
  log?(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

export interface DesktopCore {
  readonly hub: Hub;
  readonly venue: Venue;
  readonly market: LiveMarket;
  readonly credentials: CredentialStore;
  readonly profiles: ProfileStore;
  readonly links: LinkGroups;
  readonly version: string;
  /** Closes windows' sessions, stops the market, snapshots and closes the venue. */
  close(): Promise<void>;
}

export const USER_DATA_FILES = {
  venue: 'venue.sqlite',
  profiles: 'profiles.json',
  links: 'links.json',
} as const;

export async function startDesktopCore(o: DesktopCoreOptions): Promise<DesktopCore> {
  const version = o.version ?? APP_VERSION;
  const log = o.log ?? (() => undefined);
  const credentials =
    o.credentials ??
    (await createCredentialStore({
      userDataDir: o.userDataDir,
      ...(o.safeStorage ? { safeStorage: o.safeStorage } : {}),
      onWarning: (m) => log('warn', m),
    }));
  mkdirSync(o.userDataDir, { recursive: true, mode: 0o700 });
  const clock = new MarketClock();
  const venue = Venue.open(join(o.userDataDir, USER_DATA_FILES.venue), {
    now: clock.now,
    synchronous: o.synchronous ?? 'FULL',
    // One trader's order rate: history is written within the group commit. The history thread (loading
    // better-sqlite3 in a worker from inside the packaged app) is kept to the server, where it is tested.
    historyThread: false,
    onError: (e, where) => log('error', 'venue error', { err: String(e), where }),
    onFatal: (e) => log('error', 'venue stopped', { err: String(e) }),
  });
  let market: LiveMarket;
  try {
    market = await startLiveMarket({
      venue,
      seed: o.seed ?? DEFAULT_SEED,
      speed: o.speed ?? 1,
      paused: o.paused ?? false,
      ...(o.simStart !== undefined ? { now: () => o.simStart! } : {}),
      ...(o.warmupDays !== undefined ? { warmupDays: o.warmupDays } : {}),
      clock,
      // Every agent command is journaled with a full fsync on a desktop disk: the light preset keeps it calm.
      agents: AGENT_PRESETS.light,
      onError: (e) => log('error', 'simulated market stopped', { err: String(e) }),
    });
    await market.openUserAccount({ accountId: LOCAL_ACCOUNT_ID, initialCapital: LOCAL_INITIAL_CAPITAL });
  } catch (e) {
    venue.close({ snapshot: false });
    throw e;
  }
  const profiles = new ProfileStore(join(o.userDataDir, USER_DATA_FILES.profiles), { onWarning: (m, data) => log('warn', m, data) });
  const links = new LinkGroups(join(o.userDataDir, USER_DATA_FILES.links));
  const clientName = `tradedesk-${o.host === 'electron' ? 'desktop' : 'headless'}/${version}`;
  const hub = new Hub({
    host: o.host,
    version,
    profiles,
    credentials,
    links,
    local: () =>
      new LocalUpstream({
        venue,
        accountId: LOCAL_ACCOUNT_ID,
        onInternalError: (e, where) => log('error', 'local session error', { err: String(e), ...where }),
      }),
    firm: firmConnector({
      credentials,
      clientName,
      ...(o.firmBackoff ? { backoff: o.firmBackoff } : {}),
      onError: (e, where) => log('warn', `firm connection: ${where}`, { err: String(e) }),
    }),
    ...(o.openWindow ? { openWindow: o.openWindow } : {}),
    ...(o.saveFile ? { saveFile: o.saveFile } : {}),
    ...(o.resumeTimeoutMs !== undefined ? { resumeTimeoutMs: o.resumeTimeoutMs } : {}),
    onInternalError: (e, where) => log('error', 'hub error', { err: String(e), ...where }),
  });
  await hub.start();
  let closing: Promise<void> | undefined;
  return {
    hub,
    venue,
    market,
    credentials,
    profiles,
    links,
    version,
    close() {
      closing ??= (async () => {
        hub.close();
        await market.stop();
        venue.close();
      })();
      return closing;
    },
  };
}
