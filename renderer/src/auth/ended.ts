/**
 * What the sign-in page says when a session ends under the user: why, when the server recorded it
 * (SESSION_REVOKED details.reason), in words the user can act on.
 */
const REASONS: Readonly<Record<string, string>> = {
  'user disabled': 'An administrator disabled your account.',
  'password reset': 'An administrator reset your password: sign in with the temporary password they gave you.',
  '2FA reset': 'An administrator turned off your two-factor authentication. Sign in again.',
  'password changed': 'Your password was changed in another session. Sign in with the new one.',
  'revoked by admin': 'An administrator ended this session. Sign in again.',
  'revoked by user': 'This session was ended from another of your sessions. Sign in again.',
  'refresh token reused': 'This session was ended for safety: its sign-in was used twice. Sign in again.',
};

export function sessionEndedNote(e: unknown): string {
  const err = e as { code?: unknown; details?: { reason?: unknown } } | undefined;
  if (err?.code !== 'SESSION_REVOKED') return 'Your session expired. Sign in again.';
  const reason = err.details?.reason;
  return (typeof reason === 'string' && Object.hasOwn(REASONS, reason) ? REASONS[reason] : undefined) ?? 'Your session was ended. Sign in again.';
}
