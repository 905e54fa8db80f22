/** The always-visible connection state and the SIMULATION / firm-server badge. */
import { isProtocolError } from '../../../engine/protocol/index.js';
import { useConnecting, useHubStatus, useLink, useLive, useNow, type LinkState } from '../data/live.js';
import { reasonFor } from '../format/reasons.js';
import { toast } from '../power/toasts.js';

const LABEL: Record<LinkState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  login_required: 'Sign-in required',
};

export function ConnectionIndicator() {
  const link = useLink();
  const connecting = useConnecting();
  useNow(1000);
  // a connect from the profile menu the hub has not switched to yet (reading the stored session)
  const state: LinkState = connecting !== undefined ? 'connecting' : link.state;
  const retry = state === 'reconnecting' && link.retryInMs !== undefined ? ` (retry in ${Math.max(1, Math.round(link.retryInMs / 1000))} s)` : '';
  const text = connecting !== undefined ? `Connecting to ${connecting.name}…` : `${LABEL[state]}${retry}`;
  return (
    <div className={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state} title={connecting !== undefined ? text : (link.detail ?? LABEL[state])}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-text">{text}</span>
    </div>
  );
}

/** SIMULATION for the local venue; the firm server's name otherwise. On every order-entry surface. */
export function ModeBadge({ small }: { small?: boolean }) {
  const link = useLink();
  const sim = link.mode === 'simulation';
  return (
    <span className={`mode-badge ${sim ? 'sim' : 'firm'}${small ? ' small' : ''}`} data-testid="mode-badge" title={sim ? 'Orders go to the local simulated exchange' : `Orders go to the firm server ${link.serverName}`}>
      {sim ? 'SIMULATION' : `FIRM · ${link.serverName}`}
    </span>
  );
}

/** Why an order for a halted symbol is not sent (the ticket's line, the ladder's refusal). */
export const haltedText = (symbol: string): string => `${symbol} is halted by the exchange: orders are refused until trading resumes`;

/** An instrument whose trading the exchange halted: orders and changes are refused until it resumes. */
export function HaltedTag({ symbol }: { symbol: string }) {
  return (
    <span className="halted-tag" data-testid="halted" title={`Trading in ${symbol} is halted: orders and changes are refused until it resumes`}>
      HALTED
    </span>
  );
}

/**
 * A strip under the top bar while the link is not up: the data on screen may be stale. While a connect to
 * another profile is under way it says so (orders go where they went until the hub has switched); a firm
 * server that is offline with an error offers to connect again.
 */
export function StaleBanner() {
  const live = useLive();
  const link = useLink();
  const hub = useHubStatus();
  const connecting = useConnecting();
  if (connecting !== undefined) {
    const until = link.state === 'connected' ? ` Until it connects, orders go to ${link.mode === 'simulation' ? 'the local simulation' : link.serverName}.` : '';
    return (
      <div className="stale-banner connecting" role="status" data-testid="stale-banner" data-state="connecting">
        {`Connecting to ${connecting.name}…${until}`}
      </div>
    );
  }
  if (link.state === 'connected' || link.state === 'connecting') return null;
  const text =
    link.state === 'reconnecting'
      ? `Connection lost — reconnecting to ${link.serverName}. Prices and orders on screen may be stale.`
      : link.state === 'login_required'
        ? `Sign in to ${link.serverName} to trade.`
        : `Offline — ${(link.detail ?? 'not connected').replace(/[.\s]+$/, '')}.`;
  // picking the same profile in the menu again does nothing: this is the way to connect again
  const retry = live.backend.hub && hub !== undefined && hub.mode === 'firm' && link.state === 'offline' && hub.error !== undefined ? hub : undefined;
  return (
    <div className={`stale-banner ${link.state}`} role="alert" data-testid="stale-banner" data-state={link.state}>
      <span>{text}</span>
      {retry !== undefined && (
        <button
          type="button"
          className="btn small"
          onClick={() => {
            live.connectProfile(retry.profileId, retry.profileName).catch((e: unknown) => {
              toast(`Could not connect to ${retry.profileName}: ${reasonFor(isProtocolError(e) ? e.code : undefined, e instanceof Error ? e.message : undefined, 'signin')}`, 'error');
            });
          }}
        >
          Retry
        </button>
      )}
    </div>
  );
}
