/**
 * The native menu: standard items by `role` (so each platform gets its native behaviour and localisation),
 * CmdOrCtrl accelerators for our own commands, and an About box that credits TradingView for
 * lightweight-charts (its Apache-2.0 licence asks for the attribution notice and a link to TradingView).
 * Pure data: main/electron turns it into a Menu.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { PanelKind } from '../../engine/protocol/index.js';

export interface MenuActions {
  openPanel(panel: Exclude<PanelKind, 'workspace'>): void;
  about(): void;
  /** Opens the app's user-data folder (logs, database) in the file manager. */
  showUserData(): void;
}

export interface MenuOptions {
  appName: string;
  platform: string;
  /** DevTools items only in development builds. */
  devTools: boolean;
}

export function menuTemplate(o: MenuOptions, a: MenuActions): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin';
  const panel = (label: string, p: Exclude<PanelKind, 'workspace'>, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator !== undefined ? { accelerator } : {}),
    click: () => a.openPanel(p),
  });
  const about: MenuItemConstructorOptions = { label: `About ${o.appName}`, click: () => a.about() };
  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: o.appName,
      submenu: [
        about,
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  template.push({
    label: '&File',
    submenu: [
      panel('New Chart Window', 'chart', 'CmdOrCtrl+Shift+N'),
      panel('New Order Ticket', 'ticket', 'CmdOrCtrl+Shift+T'),
      panel('New Depth Ladder', 'ladder', 'CmdOrCtrl+Shift+L'),
      panel('New Blotter', 'blotter', 'CmdOrCtrl+Shift+B'),
      { type: 'separator' },
      { label: 'Show Data Folder', click: () => a.showUserData() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });
  template.push({
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  const view: MenuItemConstructorOptions[] = [
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  if (o.devTools) view.push({ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' });
  template.push({ label: '&View', submenu: view });
  template.push({
    label: '&Window',
    role: 'windowMenu',
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  });
  template.push({ label: '&Help', role: 'help', submenu: mac ? [panel('Positions', 'positions')] : [about] });
  return template;
}

/** Third-party notices shown in the About box. */
export const CREDITS: readonly { name: string; notice: string; url: string }[] = [
  {
    name: 'TradingView Lightweight Charts™',
    notice: 'Charts by TradingView Lightweight Charts™. Copyright 2023 TradingView, Inc. Licensed under the Apache License, Version 2.0.',
    url: 'https://www.tradingview.com/',
  },
];

/** The About box text (Electron's aboutPanelOptions on macOS/Linux, a message box on Windows). */
export function aboutText(appName: string, version: string, versions: { electron?: string; chrome?: string; node?: string } = {}): {
  title: string;
  message: string;
  detail: string;
} {
  const runtime = [
    versions.electron !== undefined ? `Electron ${versions.electron}` : undefined,
    versions.chrome !== undefined ? `Chromium ${versions.chrome}` : undefined,
    versions.node !== undefined ? `Node ${versions.node}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  const credits = CREDITS.map((c) => `${c.notice}\n${c.url}`).join('\n\n');
  return {
    title: `About ${appName}`,
    message: `${appName} ${version}`,
    detail: `${runtime === '' ? '' : `${runtime}\n\n`}${credits}`,
  };
}
