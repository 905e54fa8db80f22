/**
 * The strict Content-Security-Policy for every page we serve: the desktop's `tradedesk://app` pages and the
 * headless host's pages. Only our own scripts and styles (no inline script, no eval), no plugins, no
 * framing, no <base>, no form posts. `connect` adds the WebSocket origins a page may open (the headless
 * host's `/hub`); the desktop renderer opens none: it talks to main through the bridge's MessagePort.
 */
export function strictCsp(options: { connect?: readonly string[] } = {}): string {
  const connect = ["'self'", ...(options.connect ?? [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Headers sent with every page and asset (beside the CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
});
