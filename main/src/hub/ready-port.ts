/**
 * Main queues messages to a window until the window says it is ready. The ready signal is the first
 * message the window sends (its protocol `hello`): a window that has not loaded its code yet (a pop-out
 * still opening) cannot lose anything sent to it. Wraps a Port; everything else passes through.
 */
import type { CloseInfo, Port } from '../../../engine/protocol/index.js';

export interface ReadyPort extends Port {
  /** True once the window has sent its first message. */
  readonly ready: boolean;
  /** Messages waiting for the window. */
  readonly queued: number;
}

export function readyGatedPort(port: Port, options: { maxQueued?: number } = {}): ReadyPort {
  const maxQueued = options.maxQueued ?? 10_000;
  let ready = false;
  const queue: unknown[] = [];
  port.onMessage(() => {
    if (ready) return;
    ready = true;
    for (const m of queue.splice(0)) port.send(m);
  });
  return {
    get ready() {
      return ready;
    },
    get queued() {
      return queue.length;
    },
    get closed() {
      return port.closed;
    },
    send(msg: unknown): void {
      if (port.closed) return;
      if (ready) {
        port.send(msg);
        return;
      }
      if (queue.length >= maxQueued) {
        // A window that never becomes ready must not grow main's memory without bound.
        queue.length = 0;
        port.close(1008, 'window never became ready');
        return;
      }
      queue.push(msg);
    },
    onMessage: (cb: (msg: unknown) => void) => port.onMessage(cb),
    onClose: (cb: (info: CloseInfo) => void) => port.onClose(cb),
    close: (code?: number, reason?: string) => port.close(code, reason),
  };
}
