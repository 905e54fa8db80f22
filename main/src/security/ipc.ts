/**
 * The typed IPC wrapper: every `ipcMain` listener goes through `guardIpc`, which
 * - accepts only messages from one of OUR windows (the sender's webContents is registered) and from that
 *   window's top frame showing our own pages (not an iframe, not a page that navigated elsewhere);
 * - validates the payload with its zod schema (and the number of transferred MessagePorts);
 * - never throws: a refused or failing message is reported to `onRefused` and dropped.
 *
 * The app has exactly one IPC message: `tradedesk:connect` (the preload hands main one end of a new
 * MessageChannel; main serves it as that window's hub session). Everything else is the protocol over
 * that port.
 */
import { z } from 'zod';
import { isAppUrl } from './web-preferences.js';

export const CONNECT_CHANNEL = 'tradedesk:connect';
export const ConnectPayloadSchema = z.strictObject({ v: z.literal(1) });

/** The parts of Electron's WebFrameMain the checks read. */
export interface IpcFrameLike {
  readonly url: string;
  readonly parent: unknown;
}

/** The parts of Electron's IpcMainEvent the checks read. */
export interface IpcEventLike {
  readonly sender: { readonly id: number; readonly mainFrame?: IpcFrameLike } | null | undefined;
  readonly senderFrame: IpcFrameLike | null | undefined;
  readonly ports?: readonly unknown[];
}

export interface IpcContext<E extends IpcEventLike> {
  windowId: string;
  event: E;
  ports: readonly unknown[];
}

export interface GuardOptions<S extends z.ZodType, E extends IpcEventLike> {
  channel: string;
  schema: S;
  /** Our window's id for a webContents id, or undefined for anything that is not one of our windows. */
  windowOf(webContentsId: number): string | undefined;
  /** How many MessagePorts must come with the message (default 0). */
  ports?: number;
  handle(payload: z.output<S>, ctx: IpcContext<E>): void | Promise<void>;
  onRefused?(reason: string, details: { channel: string; windowId?: string }): void;
}

export type IpcListener<E extends IpcEventLike> = (event: E, ...args: unknown[]) => void;

/** Why a message is refused, or undefined when it comes from one of our windows' top frames. */
export function checkSender(event: IpcEventLike, windowOf: (id: number) => string | undefined): { windowId: string } | { refused: string } {
  const sender = event?.sender;
  if (sender === null || sender === undefined || typeof sender.id !== 'number') return { refused: 'no sender' };
  const windowId = windowOf(sender.id);
  if (windowId === undefined) return { refused: 'not one of our windows' };
  const frame = event.senderFrame;
  if (frame === null || frame === undefined) return { refused: 'the sending frame is gone' };
  if (frame.parent !== null && frame.parent !== undefined) return { refused: 'not the top frame' };
  if (sender.mainFrame !== undefined && sender.mainFrame !== frame) return { refused: 'not the main frame' };
  if (!isAppUrl(String(frame.url))) return { refused: 'the frame does not show our pages' };
  return { windowId };
}

export function guardIpc<S extends z.ZodType, E extends IpcEventLike>(o: GuardOptions<S, E>): IpcListener<E> {
  const refuse = (reason: string, windowId?: string): void => {
    try {
      o.onRefused?.(reason, windowId === undefined ? { channel: o.channel } : { channel: o.channel, windowId });
    } catch {
      // a failing logger must not throw into Electron
    }
  };
  return (event, ...args) => {
    try {
      const who = checkSender(event, o.windowOf);
      if ('refused' in who) return refuse(who.refused);
      if (args.length !== 1) return refuse(`expected one argument, got ${args.length}`, who.windowId);
      const parsed = o.schema.safeParse(args[0]);
      if (!parsed.success) return refuse('invalid payload', who.windowId);
      const ports = event.ports ?? [];
      if (ports.length !== (o.ports ?? 0)) return refuse(`expected ${o.ports ?? 0} port(s), got ${ports.length}`, who.windowId);
      const out = o.handle(parsed.data as z.output<S>, { windowId: who.windowId, event, ports });
      if (out instanceof Promise) out.catch((e: unknown) => refuse(`handler failed: ${String(e)}`, who.windowId));
    } catch (e) {
      refuse(`handler failed: ${String(e)}`);
    }
  };
}
