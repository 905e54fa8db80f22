/**
 * The app's only IPC listener, `tradedesk:connect`: a window's preload hands main one end of a new
 * MessageChannel; after the guard (one of our windows, its top frame on our pages, a valid payload, exactly
 * one port) main serves the port as that window's hub session. Raw `ipcMain` lives here and nowhere else.
 */
import { ipcMain, type IpcMainEvent, type MessagePortMain } from 'electron';
import { CONNECT_CHANNEL, ConnectPayloadSchema, guardIpc } from '../src/security/ipc.js';

export function registerConnectHandler(o: {
  windowOf(webContentsId: number): string | undefined;
  connect(port: MessagePortMain, windowId: string): void;
  onRefused(reason: string, details: { channel: string; windowId?: string }): void;
}): () => void {
  const listener = guardIpc<typeof ConnectPayloadSchema, IpcMainEvent>({
    channel: CONNECT_CHANNEL,
    schema: ConnectPayloadSchema,
    ports: 1,
    windowOf: o.windowOf,
    handle: (_payload, ctx) => o.connect(ctx.event.ports[0]!, ctx.windowId),
    onRefused: o.onRefused,
  });
  ipcMain.on(CONNECT_CHANNEL, listener);
  return () => {
    ipcMain.off(CONNECT_CHANNEL, listener);
  };
}
