/**
 * Workspace layouts saved by name ("Morning", "Scalping", "4 charts") and restored later. The store keeps
 * each layout as the workspace's own JSON (opaque here); the workspace validates it again on restore.
 */
import { z } from 'zod';

export const NAMED_LAYOUTS_KEY = 'tradedesk.power.layouts.v1';

export interface NamedLayout {
  readonly name: string;
  readonly savedAt: number;
  /** The workspace layout, as the workspace serialises it. */
  readonly layout: unknown;
}

const NameSchema = z.string().trim().min(1).max(64);
const StoreSchema = z.object({
  version: z.literal(1),
  layouts: z.array(z.object({ name: NameSchema, savedAt: z.int().nonnegative(), layout: z.unknown() })).max(50),
});

export const MAX_LAYOUTS = 50;

/** Save (a name that exists is overwritten in place), newest-saved order kept by position. */
export function saveNamed(list: readonly NamedLayout[], name: string, layout: unknown, now: number): NamedLayout[] {
  const n = NameSchema.safeParse(name);
  if (!n.success) throw new Error('A layout needs a name (1-64 characters)');
  const entry = { name: n.data, savedAt: now, layout };
  const i = list.findIndex((l) => l.name === n.data);
  if (i >= 0) return list.map((l, j) => (j === i ? entry : l));
  if (list.length >= MAX_LAYOUTS) throw new Error(`At most ${MAX_LAYOUTS} saved layouts: delete one first`);
  return [...list, entry];
}

export const deleteNamed = (list: readonly NamedLayout[], name: string): NamedLayout[] => list.filter((l) => l.name !== name);

export function serializeNamed(list: readonly NamedLayout[]): string {
  return JSON.stringify({ version: 1, layouts: list });
}

/** Read the store; anything unreadable gives an empty list (and the reason). */
export function parseNamed(json: string | null): { list: NamedLayout[]; error?: string } {
  if (json === null) return { list: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { list: [], error: `Not JSON: ${(e as Error).message}` };
  }
  const r = StoreSchema.safeParse(raw);
  if (!r.success) return { list: [], error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { list: r.data.layouts };
}
