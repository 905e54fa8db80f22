/**
 * The panel registry: every view the workspace can show is registered here with its id, title and
 * component. Features add panels by calling `registerPanel` from their module (imported once by
 * panels/index.ts or by the feature's own index), and the workspace's "Add panel" menu, the layout
 * persistence and pop-out windows all work from this table.
 */
import type { ComponentType } from 'react';

/** Per-instance settings a panel keeps in the saved layout (small, JSON-safe). */
export type PanelParams = Record<string, string | number | boolean>;

export interface PanelProps {
  /** The instance id in the layout. */
  id: string;
  params: PanelParams;
  /** Persist new params for this instance (merged). */
  setParams(patch: PanelParams): void;
}

export interface PanelDef {
  /** Stable id stored in layouts ("watchlist", "chart", ...). */
  kind: string;
  title: string;
  component: ComponentType<PanelProps>;
  /** Shown in the Add-panel menu (false for internal panels). */
  addable?: boolean;
  /** Whether the panel places orders (gets the SIMULATION / firm badge in its header). */
  orderEntry?: boolean;
  /** The panel shows the badge itself (so the header does not repeat it). */
  ownBadge?: boolean;
  /** Default params for a new instance. */
  defaults?: PanelParams;
  /** Keyboard shortcut hint shown in menus, e.g. "Alt+2". */
  hint?: string;
  /** Only for an administrator signed in to the exchange server: the Add-panel menu lists it for them alone. */
  adminOnly?: boolean;
  /**
   * Added from the menu as a column of its own taking this share of the width (%), beside the widest column,
   * rather than under other panels: a depth ladder needs its height (in the watchlist's column of a laptop's
   * screen it showed four price rows).
   */
  ownColumn?: number;
}

const panels = new Map<string, PanelDef>();
const listeners = new Set<() => void>();

export function registerPanel(def: PanelDef): void {
  panels.set(def.kind, def);
  for (const l of listeners) l();
}

/**
 * Old kinds that now open another panel (a saved layout, a pop-out URL or a desktop session with the old
 * kind still loads). The trading chart was a panel of its own ("tradechart"): it is the chart now.
 */
const aliases = new Map<string, string>([['tradechart', 'chart']]);

export function registerPanelAlias(alias: string, kind: string): void {
  aliases.set(alias, kind);
  for (const l of listeners) l();
}

/** The kind a layout should store for `kind` (an alias resolves to its panel). */
export function panelKind(kind: string): string {
  return panels.has(kind) ? kind : (aliases.get(kind) ?? kind);
}

export function panelDef(kind: string): PanelDef | undefined {
  return panels.get(panelKind(kind));
}

export function allPanels(): PanelDef[] {
  return [...panels.values()];
}

export function onPanelsChanged(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}
