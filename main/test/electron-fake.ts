/**
 * A stand-in for the `electron` module, just large enough to run the bundled main process
 * (dist/main/main.js) under plain Node: it records what main does (windows, handlers, protocol, menu) and
 * lets the test drive Electron's side (app events, IPC from a window, a MessagePort pair). The real
 * Electron binary cannot be downloaded here; this proves the wiring, not Chromium.
 */
import { EventEmitter } from 'node:events';

export interface FakeFrame {
  url: string;
  parent: null | FakeFrame;
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  readonly mainFrame: FakeFrame = { url: '', parent: null };
  windowOpenHandler: ((d: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.windowOpenHandler = h;
  }
}

export class BrowserWindow extends EventEmitter {
  static readonly all: BrowserWindow[] = [];
  static getFocusedWindow(): BrowserWindow | null {
    return state.focused ?? null;
  }
  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.all.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  url = '';
  destroyed = false;
  calls: string[] = [];
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.all.push(this);
    state.emitter.emit('web-contents-created', this.webContents);
  }
  async loadURL(url: string): Promise<void> {
    this.url = url;
    this.webContents.mainFrame.url = url;
    queueMicrotask(() => this.emit('ready-to-show'));
  }
  getNormalBounds() {
    const o = this.options as { x: number; y: number; width: number; height: number };
    return { x: o.x, y: o.y, width: o.width, height: o.height };
  }
  isMaximized = () => false;
  isFullScreen = () => false;
  isMinimized = () => false;
  isVisible = () => true;
  isDestroyed = () => this.destroyed;
  maximize = () => void this.calls.push('maximize');
  setFullScreen = () => void this.calls.push('fullscreen');
  show = () => void this.calls.push('show');
  focus = () => void this.calls.push('focus');
  restore = () => void this.calls.push('restore');
  close(): void {
    this.emit('close', { preventDefault() {} });
    this.destroyed = true;
    this.emit('closed');
  }
}

const displays = [{ id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 }, bounds: { x: 0, y: 0, width: 1920, height: 1080 } }];
export const screen = {
  getAllDisplays: () => displays,
  getPrimaryDisplay: () => displays[0]!,
  getDisplayMatching: () => displays[0]!,
};

export const state = {
  emitter: new EventEmitter(),
  userData: '',
  singleInstance: true,
  exitCode: undefined as number | undefined,
  quitCalled: false,
  schemes: [] as unknown[],
  protocolHandler: undefined as ((req: Request) => Promise<Response>) | undefined,
  permissionRequest: undefined as ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined,
  permissionCheck: undefined as (() => boolean) | undefined,
  devicePermission: undefined as (() => boolean) | undefined,
  beforeRequest: undefined as ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | undefined,
  sessionEvents: new EventEmitter(),
  menu: undefined as unknown,
  aboutOptions: undefined as unknown,
  errors: [] as string[],
  downloads: '',
  focused: undefined as BrowserWindow | undefined,
  /** What the save dialog answers (a path, or undefined: cancelled), and what it was asked. */
  savePath: undefined as string | undefined,
  saveAsked: [] as { parent: unknown; options: { defaultPath?: string; filters?: unknown } }[],
  /** The message boxes shown (their options). */
  messageBoxes: [] as { type?: string; title?: string; message: string; detail?: string }[],
  ready: undefined as unknown as () => void,
};
const readyPromise = new Promise<void>((resolve) => {
  state.ready = resolve;
});

class FakeApp extends EventEmitter {
  isPackaged = false;
  requestSingleInstanceLock = () => state.singleInstance;
  whenReady = () => readyPromise;
  getPath = (name: string) => {
    if (name === 'downloads') return state.downloads;
    if (name !== 'userData') throw new Error(`getPath(${name})`);
    return state.userData;
  };
  getVersion = () => '0.1.0-test';
  quit = () => {
    state.quitCalled = true;
  };
  exit = (code?: number) => {
    state.exitCode = code ?? 0;
    state.emitter.emit('exit', code ?? 0);
  };
  setAboutPanelOptions = (o: unknown) => {
    state.aboutOptions = o;
  };
  showAboutPanel = () => undefined;
}
export const app = new FakeApp();
state.emitter.on('web-contents-created', (wc) => app.emit('web-contents-created', {}, wc));

export const protocol = {
  registerSchemesAsPrivileged: (s: unknown[]) => void state.schemes.push(...s),
  handle: (_scheme: string, h: (req: Request) => Promise<Response>) => {
    state.protocolHandler = h;
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h: typeof state.permissionRequest) => {
      state.permissionRequest = h;
    },
    setPermissionCheckHandler: (h: typeof state.permissionCheck) => {
      state.permissionCheck = h;
    },
    setDevicePermissionHandler: (h: typeof state.devicePermission) => {
      state.devicePermission = h;
    },
    webRequest: {
      onBeforeRequest: (h: typeof state.beforeRequest) => {
        state.beforeRequest = h;
      },
    },
    on: (event: string, cb: (...a: unknown[]) => void) => state.sessionEvents.on(event, cb),
  },
};

export const ipcMain = new EventEmitter();

export const Menu = {
  buildFromTemplate: (t: unknown) => ({ template: t }),
  setApplicationMenu: (m: unknown) => {
    state.menu = m;
  },
};

export const dialog = {
  showErrorBox: (title: string, message: string) => void state.errors.push(`${title}: ${message}`),
  showMessageBox: async (parent: unknown, options?: (typeof state.messageBoxes)[number]) => {
    state.messageBoxes.push(options ?? (parent as (typeof state.messageBoxes)[number]));
    return { response: 0 };
  },
  showSaveDialog: async (parent: unknown, options?: { defaultPath?: string }) => {
    state.saveAsked.push(options === undefined ? { parent: undefined, options: parent as { defaultPath?: string } } : { parent, options });
    return state.savePath === undefined ? { canceled: true, filePath: '' } : { canceled: false, filePath: state.savePath };
  },
};

export const shell = { openPath: async () => '' };

export const safeStorage = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('unavailable');
  },
  decryptString: () => {
    throw new Error('unavailable');
  },
  getSelectedStorageBackend: () => 'basic_text',
};

/** A MessagePortMain pair (ordered, asynchronous, 'close' on both ends when one closes). */
export class FakeMessagePortMain extends EventEmitter {
  other!: FakeMessagePortMain;
  open = true;
  postMessage(message: unknown): void {
    if (!this.open) return;
    const data = structuredClone(message);
    setImmediate(() => this.other.open && this.other.emit('message', { data }));
  }
  start(): void {}
  close(): void {
    if (!this.open) return;
    this.open = false;
    setImmediate(() => {
      this.emit('close');
      if (this.other.open) {
        this.other.open = false;
        this.other.emit('close');
      }
    });
  }
  static pair(): [FakeMessagePortMain, FakeMessagePortMain] {
    const a = new FakeMessagePortMain();
    const b = new FakeMessagePortMain();
    a.other = b;
    b.other = a;
    return [a, b];
  }
}

export default { app, BrowserWindow, Menu, dialog, ipcMain, protocol, safeStorage, screen, session, shell };

/** The bundle gets its own copy of this module: the test reaches it through this global. */
export const handle = { state, app, ipcMain, BrowserWindow, FakeMessagePortMain };
(globalThis as { __electronFake?: typeof handle }).__electronFake = handle;
