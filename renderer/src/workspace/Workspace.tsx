/**
 * The arrangeable workspace: columns of panels. Drag a panel by its title onto another panel (top/bottom
 * half: stack above/below; left/right edge: new column beside it), drag the gutters to resize, close a
 * panel with ×, double-click a title to maximise. The layout is saved on every change.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { panelDef } from '../panels/registry.js';
import type { PanelParams } from '../panels/registry.js';
import { LinkChip, PanelLinkProvider, isLinkable } from '../links/links.js';
import { ModeBadge } from '../ui/StatusBits.js';
import { PopOutButton } from '../windows/workspaceWindows.js';
import { DEFAULT_LAYOUT, movePanel, parseLayout, removePanel, resize, setPanelParams, addPanel, newId, type DropSide, type Layout } from './layout.js';
import { PREF } from './prefs.js';

interface WorkspaceApi {
  layout: Layout;
  setLayout(l: Layout): void;
  add(kind: string, params?: PanelParams): void;
  reset(): void;
}

const WorkspaceContext = createContext<WorkspaceApi | undefined>(undefined);
export const useWorkspace = (): WorkspaceApi => {
  const w = useContext(WorkspaceContext);
  if (w === undefined) throw new Error('useWorkspace outside Workspace');
  return w;
};
/** The workspace, or undefined in a pop-out window (which shows one panel and has none). */
export const useWorkspaceIfAny = (): WorkspaceApi | undefined => useContext(WorkspaceContext);

function loadLayout(): Layout {
  let text: string | null = null;
  try {
    text = localStorage.getItem(PREF.layout);
  } catch {
    text = null;
  }
  return parseLayout(text, (k) => panelDef(k) !== undefined) ?? DEFAULT_LAYOUT;
}

function saveLayout(l: Layout): void {
  try {
    localStorage.setItem(PREF.layout, JSON.stringify(l));
  } catch {
    // not persisted this time
  }
}

export function WorkspaceProvider({ children }: { children: ReactNode }) {
  const [layout, setLayoutState] = useState<Layout>(loadLayout);
  const setLayout = useCallback((l: Layout) => {
    setLayoutState(l);
    saveLayout(l);
  }, []);
  const api = useMemo<WorkspaceApi>(
    () => ({
      layout,
      setLayout,
      add: (kind, params) => {
        const def = panelDef(kind);
        setLayout(addPanel(layout, { id: newId(kind), kind, h: 50, params: { ...(def?.defaults ?? {}), ...(params ?? {}) } }, def?.ownColumn));
      },
      reset: () => setLayout(DEFAULT_LAYOUT),
    }),
    [layout, setLayout],
  );
  return <WorkspaceContext.Provider value={api}>{children}</WorkspaceContext.Provider>;
}

const DRAG_TYPE = 'application/x-tradedesk-panel';

export function Workspace() {
  const { layout, setLayout } = useWorkspace();
  const [draft, setDraft] = useState<Layout | undefined>(undefined);
  const [maximized, setMaximized] = useState<string | undefined>(undefined);
  const [drop, setDrop] = useState<{ id: string; side: DropSide } | undefined>(undefined);
  const root = useRef<HTMLDivElement>(null);
  const shown = draft ?? layout;

  const startResize = (e: React.PointerEvent, col: number, row: number | undefined) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLElement;
    const container = row === undefined ? root.current : (el.parentElement as HTMLElement);
    if (container === null) return;
    const size = row === undefined ? container.clientWidth : container.clientHeight;
    const start = row === undefined ? e.clientX : e.clientY;
    const base = layout;
    let last = base;
    el.setPointerCapture(e.pointerId);
    const move = (ev: PointerEvent) => {
      const d = ((row === undefined ? ev.clientX : ev.clientY) - start) / size;
      last = resize(base, col, row, d * 100);
      setDraft(last);
    };
    const up = () => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
      setDraft(undefined);
      setLayout(last);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
  };

  const sideOf = (e: React.DragEvent, el: HTMLElement): DropSide => {
    const r = el.getBoundingClientRect();
    const x = (e.clientX - r.left) / r.width;
    const y = (e.clientY - r.top) / r.height;
    if (x < 0.2) return 'left';
    if (x > 0.8) return 'right';
    return y < 0.5 ? 'top' : 'bottom';
  };

  if (maximized !== undefined) {
    const p = shown.columns.flatMap((c) => c.panels).find((x) => x.id === maximized);
    if (p !== undefined) {
      return (
        <div className="ws" ref={root}>
          <div className="ws-col" style={{ flexGrow: 1 }}>
            <PanelFrame
              key={p.id}
              id={p.id}
              kind={p.kind}
              params={p.params}
              grow={1}
              maximized
              onToggleMax={() => setMaximized(undefined)}
              onClose={() => {
                setMaximized(undefined);
                setLayout(removePanel(layout, p.id));
              }}
              setParams={(patch) => setLayout(setPanelParams(layout, p.id, patch))}
            />
          </div>
        </div>
      );
    }
  }

  return (
    <div className="ws" ref={root} data-testid="workspace">
      {shown.columns.map((col, ci) => (
        <ColumnView key={col.panels[0]?.id ?? ci} grow={col.w} last={ci === shown.columns.length - 1} onGutter={(e) => startResize(e, ci, undefined)}>
          {col.panels.map((p, ri) => (
            <PanelSlot key={p.id} last={ri === col.panels.length - 1} onGutter={(e) => startResize(e, ci, ri)}>
              <PanelFrame
                id={p.id}
                kind={p.kind}
                params={p.params}
                grow={p.h}
                dropSide={drop?.id === p.id ? drop.side : undefined}
                onToggleMax={() => setMaximized(p.id)}
                onClose={() => setLayout(removePanel(layout, p.id))}
                setParams={(patch) => setLayout(setPanelParams(layout, p.id, patch))}
                onDragOver={(e) => {
                  if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
                  e.preventDefault();
                  e.dataTransfer.dropEffect = 'move';
                  const side = sideOf(e, e.currentTarget as HTMLElement);
                  if (drop?.id !== p.id || drop.side !== side) setDrop({ id: p.id, side });
                }}
                onDragLeave={() => setDrop(undefined)}
                onDrop={(e) => {
                  const id = e.dataTransfer.getData(DRAG_TYPE);
                  const side = sideOf(e, e.currentTarget as HTMLElement);
                  setDrop(undefined);
                  if (id !== '') setLayout(movePanel(layout, id, p.id, side));
                }}
              />
            </PanelSlot>
          ))}
        </ColumnView>
      ))}
    </div>
  );
}

function ColumnView({ grow, last, onGutter, children }: { grow: number; last: boolean; onGutter(e: React.PointerEvent): void; children: ReactNode }) {
  return (
    <>
      <div className="ws-col" style={{ flexGrow: grow }}>
        {children}
      </div>
      {!last && <div className="gutter gutter-v" role="separator" aria-orientation="vertical" onPointerDown={onGutter} />}
    </>
  );
}

function PanelSlot({ last, onGutter, children }: { last: boolean; onGutter(e: React.PointerEvent): void; children: ReactNode }) {
  return (
    <>
      {children}
      {!last && <div className="gutter gutter-h" role="separator" aria-orientation="horizontal" onPointerDown={onGutter} />}
    </>
  );
}

interface FrameProps {
  id: string;
  kind: string;
  params: PanelParams;
  grow: number;
  maximized?: boolean;
  dropSide?: DropSide | undefined;
  onClose(): void;
  onToggleMax(): void;
  setParams(patch: PanelParams): void;
  onDragOver?(e: React.DragEvent): void;
  onDragLeave?(e: React.DragEvent): void;
  onDrop?(e: React.DragEvent): void;
}

function PanelFrame(p: FrameProps) {
  const def = panelDef(p.kind);
  const Body = def?.component;
  const title = def?.title ?? p.kind;
  return (
    <section
      className="panel"
      style={{ flexGrow: p.grow }}
      data-panel={p.kind}
      data-drop={p.dropSide}
      data-link={typeof p.params.link === 'string' && p.params.link !== '' ? p.params.link : undefined}
      aria-label={title}
      onDragOver={p.onDragOver}
      onDragLeave={p.onDragLeave}
      onDrop={p.onDrop}
    >
      <header
        className="panel-head"
        draggable={!p.maximized}
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_TYPE, p.id);
          e.dataTransfer.effectAllowed = 'move';
        }}
        onDoubleClick={p.onToggleMax}
        title="Drag to move; double-click to maximise"
      >
        <span className="panel-title">{title}</span>
        {def?.orderEntry === true && def.ownBadge !== true && <ModeBadge small />}
        <span className="spacer" />
        {isLinkable(p.kind) && <LinkChip kind={p.kind} link={p.params.link} onChange={(c) => p.setParams({ link: c ?? '' })} />}
        <PopOutButton id={p.id} kind={p.kind} params={p.params} />
        <button type="button" className="icon-btn" onClick={p.onToggleMax} aria-label={p.maximized ? 'Restore' : 'Maximise'} title={p.maximized ? 'Restore' : 'Maximise'}>
          {p.maximized ? '❐' : '□'}
        </button>
        <button type="button" className="icon-btn" onClick={p.onClose} aria-label={`Close ${title}`} title="Close panel">
          ×
        </button>
      </header>
      <div className="panel-body">
        <PanelLinkProvider link={p.params.link}>{Body ? <Body id={p.id} params={p.params} setParams={p.setParams} /> : <div className="empty">Unknown panel “{p.kind}”</div>}</PanelLinkProvider>
      </div>
    </section>
  );
}
