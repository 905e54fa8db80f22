/**
 * Connection profiles: the built-in "Local simulation" and any number of firm servers, persisted as JSON in
 * the user-data folder (`profiles.json`) together with the active profile's id. No secrets here, ever:
 * refresh tokens and API keys are in the CredentialStore, keyed by profile id.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LOCAL_PROFILE_ID, ProfileIdSchema, UsernameSchema } from '../../engine/protocol/index.js';
import { readJsonFileOrSetAside, setFileAside, writeJsonFileAtomic, type DamagedFile } from './json-file.js';

export interface StoredProfile {
  id: string;
  name: string;
  kind: 'local' | 'firm';
  url?: string;
  username?: string;
}

// A URL saved before the rules it must meet now (ServerUrlSchema: plain http only to this machine) is read back
// as it was, so the profile is kept for its owner to edit; it is checked before it is connected to.
// Read entry by entry: one the schema refuses (written by hand, by another version) is dropped alone.
const FileSchema = z.object({ activeId: z.unknown().optional(), profiles: z.array(z.unknown()) });
const EntrySchema = z.object({ id: ProfileIdSchema, name: z.string().min(1).max(64), url: z.string().max(300), username: UsernameSchema.optional() });

export interface ProfileStoreOptions {
  /** Told when the file is damaged (set aside) or an entry in it was dropped. */
  onWarning?(message: string, data?: Record<string, unknown>): void;
}

export const LOCAL_PROFILE: StoredProfile = Object.freeze({ id: LOCAL_PROFILE_ID, name: 'Local simulation', kind: 'local' });

export class ProfileStore {
  readonly #file: string | undefined;
  #firms: StoredProfile[] = [];
  #activeId: string = LOCAL_PROFILE_ID;

  /**
   * `file`: profiles.json (omit for memory only). A missing file starts with the local profile; so does an
   * unreadable one, after it was renamed aside (`profiles.json.corrupt-<timestamp>`, and a warning). An entry
   * that is not a valid profile is dropped alone (a warning, and a copy of the file is kept aside), and the file
   * is written again without it.
   */
  constructor(file?: string, o: ProfileStoreOptions = {}) {
    this.#file = file;
    if (file === undefined) return;
    const damaged = (d: DamagedFile): void =>
      o.onWarning?.(
        d.keptAs !== undefined
          ? `The connection profiles file ${d.reason}: it was renamed to ${d.keptAs} and the profiles start afresh`
          : `The connection profiles file ${d.reason}: the profiles start afresh`,
        { file: d.file, ...(d.keptAs !== undefined ? { keptAs: d.keptAs } : {}) },
      );
    const raw = readJsonFileOrSetAside(file, damaged);
    if (raw === undefined) return;
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) {
      setFileAside(file, 'is not a list of profiles', damaged);
      return;
    }
    const seen = new Set<string>([LOCAL_PROFILE_ID]);
    const dropped: unknown[] = [];
    for (const entry of parsed.data.profiles) {
      const e = EntrySchema.safeParse(entry);
      if (!e.success) {
        dropped.push(entry);
        continue;
      }
      const p = e.data;
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      this.#firms.push({ id: p.id, name: p.name, kind: 'firm', url: p.url, ...(p.username !== undefined ? { username: p.username } : {}) });
    }
    if (dropped.length > 0) {
      setFileAside(
        file,
        `has ${dropped.length} entr${dropped.length === 1 ? 'y' : 'ies'} that ${dropped.length === 1 ? 'is' : 'are'} not a valid connection profile`,
        (d) =>
          o.onWarning?.(`The connection profiles file ${d.reason}: ${dropped.length === 1 ? 'it was' : 'they were'} dropped${d.keptAs !== undefined ? ` (the file as it was is kept as ${d.keptAs})` : ''}`, {
            file: d.file,
            dropped: JSON.stringify(dropped).slice(0, 2000),
            ...(d.keptAs !== undefined ? { keptAs: d.keptAs } : {}),
          }),
        { copy: true },
      );
    }
    const a = ProfileIdSchema.safeParse(parsed.data.activeId);
    if (a.success && seen.has(a.data)) this.#activeId = a.data;
    if (dropped.length > 0) {
      // written again without them, so the next start reads a clean file (and sets no copy aside again)
      try {
        this.#save();
      } catch (e) {
        o.onWarning?.(`The connection profiles file could not be written without its invalid entries: ${e instanceof Error ? e.message : String(e)}`, { file });
      }
    }
  }

  list(): StoredProfile[] {
    return [{ ...LOCAL_PROFILE }, ...this.#firms.map((p) => ({ ...p }))];
  }

  get(id: string): StoredProfile | undefined {
    if (id === LOCAL_PROFILE_ID) return { ...LOCAL_PROFILE };
    const p = this.#firms.find((f) => f.id === id);
    return p === undefined ? undefined : { ...p };
  }

  get activeId(): string {
    return this.#activeId;
  }

  setActive(id: string): void {
    if (this.get(id) === undefined) throw new Error(`No profile ${id}`);
    if (this.#activeId === id) return;
    this.#activeId = id;
    this.#save();
  }

  /** Creates (no id) or updates a firm profile (its URL checked by the caller: ServerUrlSchema). Returns the stored profile. */
  save(input: { id?: string | undefined; name: string; url: string; username?: string | undefined }): StoredProfile {
    if (input.id === LOCAL_PROFILE_ID) throw new Error('The local profile cannot be changed');
    const url = input.url.replace(/\/+$/, '');
    if (input.id !== undefined) {
      const p = this.#firms.find((f) => f.id === input.id);
      if (p === undefined) throw new Error(`No profile ${input.id}`);
      p.name = input.name;
      p.url = url;
      if (input.username !== undefined) p.username = input.username;
      this.#save();
      return { ...p };
    }
    const p: StoredProfile = { id: this.#newId(input.name), name: input.name, kind: 'firm', url };
    if (input.username !== undefined) p.username = input.username;
    this.#firms.push(p);
    this.#save();
    return { ...p };
  }

  /** Remembers the user name last used to sign in to a profile. */
  setUsername(id: string, username: string): void {
    const p = this.#firms.find((f) => f.id === id);
    if (p === undefined || p.username === username) return;
    p.username = username;
    this.#save();
  }

  delete(id: string): boolean {
    if (id === LOCAL_PROFILE_ID) throw new Error('The local profile cannot be deleted');
    const i = this.#firms.findIndex((f) => f.id === id);
    if (i < 0) return false;
    this.#firms.splice(i, 1);
    if (this.#activeId === id) this.#activeId = LOCAL_PROFILE_ID;
    this.#save();
    return true;
  }

  #newId(name: string): string {
    const slug = name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30);
    for (;;) {
      const id = `${slug === '' ? 'firm' : slug}-${randomBytes(3).toString('hex')}`;
      if (id !== LOCAL_PROFILE_ID && this.get(id) === undefined) return id;
    }
  }

  #save(): void {
    if (this.#file === undefined) return;
    writeJsonFileAtomic(this.#file, {
      activeId: this.#activeId,
      profiles: this.#firms.map((p) => ({ id: p.id, name: p.name, url: p.url, ...(p.username !== undefined ? { username: p.username } : {}) })),
    });
  }
}
