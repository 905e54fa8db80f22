/** The always-visible connection state and the SIMULATION / firm-server badge. */
import { useLink, useNow, type LinkState } from '../data/live.js';

const LABEL: Record<LinkState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  login_required: 'Sign-in required',
};

export function ConnectionIndicator() {
  const link = useLink();
  useNow(1000);
  const retry = link.state === 'reconnecting' && link.retryInMs !== undefined ? ` (retry in ${Math.max(1, Math.round(link.retryInMs / 1000))} s)` : '';
  return (
    <div className={`conn conn-${link.state}`} role="status" aria-live="polite" data-testid="connection" data-state={link.state} title={link.detail ?? LABEL[link.state]}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-text">{LABEL[link.state]}{retry}</span>
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

/** A strip under the top bar while the link is not up: the data on screen may be stale. */
export function StaleBanner() {
  const link = useLink();
  if (link.state === 'connected' || link.state === 'connecting') return null;
  const text =
    link.state === 'reconnecting'
      ? `Connection lost — reconnecting to ${link.serverName}. Prices and orders on screen may be stale.`
      : link.state === 'login_required'
        ? `Sign in to ${link.serverName} to trade.`
        : `Offline — ${link.detail ?? 'not connected'}.`;
  return (
    <div className={`stale-banner ${link.state}`} role="alert" data-testid="stale-banner">
      {text}
    </div>
  );
}
