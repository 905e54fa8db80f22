/**
 * What the hub forwards exchange traffic to: the local venue or a firm server. Shaped like
 * engine/protocol's `Connection` (a reconnecting client whose subscriptions survive reconnects), so the
 * firm upstream is a Connection and the local one a thin wrapper over a ProtocolClient on an in-memory
 * pair; the hub neither knows nor cares which it has.
 */
import type { ErrorShape } from '../../../engine/protocol/index.js';
import type { ProtocolError, Welcome } from '../../../engine/protocol/index.js';

export type UpstreamState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface UpstreamStatus {
  readonly state: UpstreamState;
  /** Failed attempts since the connection was last open. */
  readonly attempt: number;
  readonly retryInMs?: number;
  readonly error?: ErrorShape;
  readonly welcome?: Welcome;
}

export interface UpstreamHandlers {
  data(data: unknown): void;
  /** Refused or ended for good by the upstream; the subscription is over. */
  error?(error: ProtocolError): void;
  /** The connection dropped: nothing arrives until `resubscribed`. */
  interrupted?(): void;
  /** Live again (after a reconnect or a resync); the next push of a snapshot channel is fresh. */
  resubscribed?(): void;
}

export interface UpstreamSubscription {
  /** False once unsubscribed or refused/ended for good. */
  readonly active: boolean;
  /** Resolves once live the first time; rejects with the refusal (or UNAVAILABLE if the link closed first). */
  readonly ready: Promise<void>;
  unsubscribe(): Promise<void>;
}

export interface Upstream {
  readonly status: UpstreamStatus;
  onStatus(cb: (s: UpstreamStatus) => void): () => void;
  /** Calls an exchange method (params already validated by the window's session). */
  call(method: string, params: unknown): Promise<unknown>;
  subscribe(channel: string, params: unknown, handlers: UpstreamHandlers): UpstreamSubscription;
  close(): void;
}
