/** A stand-in for `electron` in the preload's world: records what it exposes and the ports it hands to main. */
export const exposed: Record<string, unknown> = {};
export const sent: { channel: string; message: unknown; transfer: unknown[] }[] = [];

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    exposed[key] = api;
  },
};

export const ipcRenderer = {
  postMessage(channel: string, message: unknown, transfer: unknown[] = []): void {
    sent.push({ channel, message, transfer });
  },
};

(globalThis as { __preloadFake?: unknown }).__preloadFake = { exposed, sent };
