/**
 * Firm sign-in with two-factor authentication. Server mode signs in over the REST API; hub mode asks the
 * desktop hub (`hub.login`), which keeps the refresh token in the OS keychain. Every refusal is explained
 * in words (wrong password, code needed, wrong/used code, throttled, server unreachable).
 */
import { useEffect, useRef, useState } from 'react';
import { isProtocolError } from '../../../engine/protocol/index.js';
import { reasonFor, throttledSignIn } from '../format/reasons.js';

export interface LoginProps {
  serverName: string;
  /** Throws a ProtocolError with the server's code on refusal. `remember`: as the user chose (see offerRemember). */
  signIn(username: string, password: string, code: string | undefined, remember: boolean): Promise<void>;
  /**
   * Offer "Keep me signed in on this computer" (the desktop hub: the session's refresh token in the OS
   * keychain, so the next start connects without a password). Unchecked unless the user checks it.
   */
  offerRemember?: boolean;
  initialUser?: string | undefined;
  note?: string | undefined;
  onCancel?(): void;
}

export function LoginForm(p: LoginProps) {
  const [username, setUsername] = useState(p.initialUser ?? '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; text: string } | undefined>();
  const codeRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needCode) codeRef.current?.focus();
  }, [needCode]);

  const submit = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await p.signIn(username.trim(), password, needCode ? code.trim() : undefined, p.offerRemember === true && remember);
      setError(undefined);
    } catch (e) {
      const c = isProtocolError(e) ? e.code : 'UNAVAILABLE';
      const msg = e instanceof Error ? e.message : String(e);
      if (c === 'TWO_FACTOR_REQUIRED') {
        setNeedCode(true);
        setError(undefined);
      } else {
        if (c === 'INVALID_TWO_FACTOR_CODE') setCode('');
        if (c === 'INVALID_CREDENTIALS') setPassword('');
        const details = isProtocolError(e) ? e.details : undefined;
        setError({ code: c, text: c === 'RATE_LIMITED' ? throttledSignIn(msg, details) : reasonFor(c, msg, 'signin') });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="login"
      data-testid="login"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Sign in</h2>
      <p className="muted">
        to <b>{p.serverName}</b>
      </p>
      {p.note && (
        <p className="note" data-testid="login-note">
          {p.note}
        </p>
      )}
      <label htmlFor="login-user">User name</label>
      <input id="login-user" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus={!p.initialUser} disabled={needCode} required />
      <label htmlFor="login-pass">Password</label>
      <input id="login-pass" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus={!!p.initialUser} disabled={needCode} required />
      {needCode && (
        <>
          <label htmlFor="login-code">Two-factor code</label>
          <input
            id="login-code"
            ref={codeRef}
            inputMode="numeric"
            autoComplete="one-time-code"
            placeholder="6-digit code or backup code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            required
          />
          <p className="hint">Open your authenticator app and enter the current code for this account.</p>
        </>
      )}
      {p.offerRemember === true && (
        <label className="check small" title="The session is kept in the system keychain until you sign out">
          <input type="checkbox" data-testid="login-remember" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Keep me signed in on this computer
        </label>
      )}
      {error && (
        <div className="field-error block" role="alert" data-testid="login-error" data-code={error.code}>
          {error.text}
        </div>
      )}
      <div className="modal-actions">
        {needCode && (
          <button
            type="button"
            className="btn"
            onClick={() => {
              setNeedCode(false);
              setCode('');
              setError(undefined);
            }}
          >
            Back
          </button>
        )}
        {p.onCancel && (
          <button type="button" className="btn" onClick={p.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Signing in…' : needCode ? 'Verify' : 'Sign in'}
        </button>
      </div>
    </form>
  );
}

/** First sign-in with a temporary password: choose one's own before trading. */
export function ChangePasswordForm(p: { serverName: string; username: string; change(newPassword: string): Promise<void> }) {
  const [pw, setPw] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; text: string } | undefined>();
  const submit = async () => {
    if (pw !== again) {
      setError({ code: 'MISMATCH', text: 'The two passwords are not the same.' });
      return;
    }
    setBusy(true);
    try {
      await p.change(pw);
    } catch (e) {
      const c = isProtocolError(e) ? e.code : 'UNAVAILABLE';
      // The server names what the policy wants ("at least 12 characters", ...): show that too.
      setError({ code: c, text: c === 'WEAK_PASSWORD' && e instanceof Error ? `${reasonFor(c)} ${e.message}.` : reasonFor(c, e instanceof Error ? e.message : undefined, 'signin') });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="login"
      data-testid="change-password"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Choose your password</h2>
      <p className="muted">
        <b>{p.username}</b> on {p.serverName} has a temporary password from an administrator.
      </p>
      <label htmlFor="cp-new">New password</label>
      <input id="cp-new" type="password" autoComplete="new-password" value={pw} onChange={(e) => setPw(e.target.value)} autoFocus required />
      <label htmlFor="cp-again">Repeat it</label>
      <input id="cp-again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} required />
      <p className="hint">A long passphrase of your own; it must not be the temporary one.</p>
      {error && (
        <div className="field-error block" role="alert" data-testid="login-error" data-code={error.code}>
          {error.text}
        </div>
      )}
      <div className="modal-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Saving…' : 'Set password and continue'}
        </button>
      </div>
    </form>
  );
}
