/** An in-process hub over a real local venue (SQLite in a temp folder) with windows on in-memory ports. */
import { join } from 'node:path';
import { ProtocolClient, type InstrumentSpec } from '../../engine/protocol/index.js';
import { Venue } from '../../engine/venue/index.js';
import type { CredentialStore } from '../src/credentials/store.js';
import { MemoryStore } from '../src/credentials/store.js';
import { Hub, type FirmConnector, type HubOptions, type WindowInfo } from '../src/hub/hub.js';
import { LocalUpstream } from '../src/hub/local.js';
import { LinkGroups } from '../src/links.js';
import { ProfileStore } from '../src/profiles.js';
import { tempDir, windowPair } from './helpers.js';

export const LOCAL_ACME: InstrumentSpec = { symbol: 'ACME', name: 'Acme (local)', tickSize: 1, lotSize: 1, referencePrice: 20_000, bandBps: 2000 };
export const LOCAL_ONLY: InstrumentSpec = { symbol: 'LOCL', name: 'Local only', tickSize: 1, lotSize: 1, referencePrice: 5_000, bandBps: 2000 };
export const LOCAL_ACCOUNT = 1;

export async function openLocalVenue(file: string): Promise<Venue> {
  const venue = Venue.open(file, { synchronous: 'NORMAL' });
  if (venue.view.instrument('ACME') === undefined) {
    await venue.submitAll([
      { type: 'CreateInstrument', instrument: LOCAL_ACME },
      { type: 'CreateInstrument', instrument: LOCAL_ONLY },
      { type: 'OpenAccount', accountId: LOCAL_ACCOUNT, allowShort: true },
      { type: 'Deposit', accountId: LOCAL_ACCOUNT, amount: 100_000_000 },
    ]);
  }
  return venue;
}

export interface HubFixture {
  hub: Hub;
  venue: Venue;
  dir: string;
  credentials: CredentialStore;
  profiles: ProfileStore;
  links: LinkGroups;
  /** Opens a window: a ProtocolClient connected to the hub over a serialising in-memory pair. */
  window(info?: Partial<WindowInfo>): Promise<ProtocolClient>;
  close(): Promise<void>;
}

let windowSeq = 0;

export async function hubFixture(
  o: { firm?: FirmConnector; credentials?: CredentialStore; hub?: Partial<HubOptions>; dir?: string } = {},
): Promise<HubFixture> {
  const tmp = o.dir === undefined ? tempDir() : undefined;
  const dir = o.dir ?? tmp!.dir;
  const venue = await openLocalVenue(join(dir, 'venue.sqlite'));
  const credentials = o.credentials ?? new MemoryStore();
  const profiles = new ProfileStore(join(dir, 'profiles.json'));
  const links = new LinkGroups(join(dir, 'links.json'));
  const hub = new Hub({
    host: 'electron',
    version: '9.9.9',
    profiles,
    credentials,
    links,
    local: () => new LocalUpstream({ venue, accountId: LOCAL_ACCOUNT }),
    ...(o.firm ? { firm: o.firm } : {}),
    lingerMs: 0,
    onInternalError: (e, where) => {
      throw Object.assign(new Error(`hub internal error: ${String(e)}`), { where });
    },
    ...o.hub,
  });
  await hub.start();
  const clients: ProtocolClient[] = [];
  return {
    hub,
    venue,
    dir,
    credentials,
    profiles,
    links,
    async window(info = {}) {
      const { windowPort, hubPort } = windowPair();
      hub.attach(hubPort, { windowId: info.windowId ?? `w${++windowSeq}`, panel: info.panel ?? 'workspace', ...(info.params ? { params: info.params } : {}) });
      const c = new ProtocolClient(windowPort, { timeoutMs: 10_000 });
      clients.push(c);
      await c.connect({ client: 'test-window' });
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      hub.close();
      venue.close({ snapshot: false });
      tmp?.remove();
    },
  };
}
