/**
 * Which windows exist: the workspace window and the pop-outs (chart, order ticket, depth ladder, blotter,
 * ...), each with a stable id, its panel and params, and the webContents id Electron gave it (so IPC from
 * a webContents can be traced to one of OUR windows). The pop-outs open at quit are remembered in
 * `<userData>/windows.json` and reopened at the next start.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PanelKindSchema, PanelParamsSchema, ProtocolError, type PanelKind } from '../../../engine/protocol/index.js';
import { readJsonFile, writeJsonFileAtomic } from '../json-file.js';

export interface ManagedWindow {
  readonly id: string;
  readonly panel: PanelKind;
  readonly params: Record<string, string | number | boolean>;
  webContentsId: number | undefined;
}

/** Most pop-out windows open at once (each is a renderer process): more are refused, and no more are reopened. */
export const MAX_POP_OUTS = 50;

const SessionSchema = z.object({ popOuts: z.array(z.object({ panel: PanelKindSchema, params: PanelParamsSchema })) });

export class WindowRegistry {
  readonly #byId = new Map<string, ManagedWindow>();
  readonly #byContents = new Map<number, string>();

  add(panel: PanelKind, params: Record<string, string | number | boolean> = {}, id: string = panel === 'workspace' ? 'main' : `${panel}-${randomUUID().slice(0, 8)}`): ManagedWindow {
    if (this.#byId.has(id)) throw new Error(`Window ${id} exists`);
    if (panel !== 'workspace' && this.popOuts().length >= MAX_POP_OUTS)
      throw new ProtocolError('CONFLICT', `${MAX_POP_OUTS} windows are open already: close one first`, { max: MAX_POP_OUTS });
    const w: ManagedWindow = { id, panel, params: { ...params }, webContentsId: undefined };
    this.#byId.set(id, w);
    return w;
  }

  /** Records the webContents a window got (Electron gives it when the BrowserWindow is created). */
  bind(id: string, webContentsId: number): void {
    const w = this.#byId.get(id);
    if (w === undefined) throw new Error(`No window ${id}`);
    if (w.webContentsId !== undefined) this.#byContents.delete(w.webContentsId);
    w.webContentsId = webContentsId;
    this.#byContents.set(webContentsId, id);
  }

  remove(id: string): void {
    const w = this.#byId.get(id);
    if (w === undefined) return;
    this.#byId.delete(id);
    if (w.webContentsId !== undefined) this.#byContents.delete(w.webContentsId);
  }

  get(id: string): ManagedWindow | undefined {
    return this.#byId.get(id);
  }

  /** Our window id for a webContents id, or undefined (a webContents that is not one of our windows). */
  windowOf(webContentsId: number): string | undefined {
    return this.#byContents.get(webContentsId);
  }

  list(): ManagedWindow[] {
    return [...this.#byId.values()];
  }

  popOuts(): ManagedWindow[] {
    return this.list().filter((w) => w.panel !== 'workspace');
  }
}

/** The pop-outs to reopen at the next start. */
export function saveOpenPopOuts(file: string, windows: readonly ManagedWindow[]): void {
  const popOuts = windows.filter((w) => w.panel !== 'workspace').slice(0, MAX_POP_OUTS);
  writeJsonFileAtomic(file, { popOuts: popOuts.map((w) => ({ panel: w.panel, params: w.params })) });
}

export function loadOpenPopOuts(file: string): { panel: PanelKind; params: Record<string, string | number | boolean> }[] {
  const p = SessionSchema.safeParse(readJsonFile(file));
  // (a file with more than could be open, written by hand or by an older build: the first ones)
  return p.success ? p.data.popOuts.filter((w) => w.panel !== 'workspace').slice(0, MAX_POP_OUTS) : [];
}

/** The window role whose bounds a window restores: one per panel kind (the last chart's place for a new chart). */
export function stateRole(w: Pick<ManagedWindow, 'panel'>): string {
  return w.panel;
}
