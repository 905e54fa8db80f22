/** The app shell: top bar (mode, connection, panels menu, theme, user), the stale-data banner and the workspace. */
import { useEffect, useRef, useState } from 'react';
import { useAdminApi } from './admin/api.js';
import { sessionEndedNote } from './auth/ended.js';
import { ChangePasswordForm, LoginForm } from './auth/Login.js';
import { ProfileMenu } from './auth/Profiles.js';
import { useConnStatus, useLink, useLive, useNow } from './data/live.js';
import { allPanels } from './panels/registry.js';
import { PowerLayer, openHotkeySettings } from './power/wiring.js';
import { ConnectionIndicator, ModeBadge, StaleBanner } from './ui/StatusBits.js';
import { useModalKeys } from './ui/modal.js';
import { useApplyTheme, useTheme } from './ui/theme.js';
import { PopoutWindow, usePopoutTarget } from './windows/PopoutWindow.js';
import { PoppedOutBar } from './windows/workspaceWindows.js';
import { Workspace, WorkspaceProvider, useWorkspace } from './workspace/Workspace.js';

export function App() {
  useApplyTheme();
  const live = useLive();
  const auth = live.backend.auth;
  const [signedIn, setSignedIn] = useState(auth === undefined || auth.signedIn);
  const [note, setNote] = useState<string | undefined>();
  const [mustChange, setMustChange] = useState(false);
  const currentPassword = useRef('');
  const status = useConnStatus();
  // A pop-out window shows one panel instead of the workspace.
  const popout = usePopoutTarget();

  // Server mode: an expired or revoked session stops the connection; refresh once, else sign in again.
  useEffect(() => {
    if (auth === undefined || status.state !== 'closed' || status.error === undefined) return;
    const code = status.error.code;
    if (code !== 'UNAUTHENTICATED' && code !== 'SESSION_REVOKED') return;
    auth.refresh().then(
      () => live.conn.start(),
      (e: unknown) => {
        // The refresh's own refusal says why the session ended (disabled, password reset, ...).
        setNote(sessionEndedNote((e as { code?: unknown } | undefined)?.code === 'SESSION_REVOKED' ? e : status.error));
        setSignedIn(false);
      },
    );
  }, [auth, live, status]);

  const begin = () => {
    if (live.conn.state === 'idle') live.start();
    else live.conn.restart();
  };

  if (auth !== undefined && signedIn && mustChange) {
    return (
      <div className="login-page">
        <div className="brand big">TradeDesk</div>
        <ChangePasswordForm
          serverName={live.backend.name ?? location.host}
          username={auth.user?.username ?? ''}
          change={async (pw) => {
            await auth.changePassword(currentPassword.current, pw);
            currentPassword.current = '';
            setMustChange(false);
            begin();
          }}
        />
      </div>
    );
  }

  if (auth !== undefined && !signedIn) {
    return (
      <div className="login-page">
        <div className="brand big">TradeDesk</div>
        <LoginForm
          serverName={live.backend.name ?? location.host}
          note={note}
          initialUser={auth.user?.username}
          signIn={async (u, pw, code) => {
            const user = await auth.login(u, pw, code);
            setSignedIn(true);
            setNote(undefined);
            if (user.mustChangePassword === true) {
              currentPassword.current = pw; // held in memory only until the new one is set
              setMustChange(true);
              return;
            }
            begin();
          }}
        />
      </div>
    );
  }

  if (popout === 'pending') return <div className="app popout-app"><div className="empty">Connecting…</div></div>;
  if (popout !== undefined) {
    return (
      <>
        <PopoutWindow target={popout} />
        <HubLogin />
        <PowerLayer />
      </>
    );
  }

  return (
    <WorkspaceProvider>
      <div className="app">
        <TopBar onSignOut={auth === undefined ? undefined : async () => {
          await auth.logout();
          live.conn.close();
          live.qc.clear();
          setSignedIn(false);
        }} />
        <StaleBanner />
        <PoppedOutBar />
        <Workspace />
        <HubLogin />
        <PowerLayer />
      </div>
    </WorkspaceProvider>
  );
}

function TopBar({ onSignOut }: { onSignOut: (() => Promise<void>) | undefined }) {
  const live = useLive();
  const [theme, setTheme] = useTheme();
  const ws = useWorkspace();
  const now = useNow(1000);
  const user = live.backend.auth?.user?.username ?? live.hubStatus?.username;
  const admin = useAdminApi();
  return (
    <header className="topbar">
      <span className="brand">TradeDesk</span>
      <ModeBadge />
      <ConnectionIndicator />
      <ProfileMenu />
      <span className="spacer" />
      <select
        className="menu"
        aria-label="Add panel"
        value=""
        onChange={(e) => {
          if (e.target.value !== '') ws.add(e.target.value);
        }}
      >
        <option value="">+ Add panel</option>
        {allPanels()
          .filter((p) => p.addable !== false && (p.adminOnly !== true || admin !== undefined))
          .map((p) => (
            <option key={p.kind} value={p.kind}>
              {p.title}
            </option>
          ))}
      </select>
      <button type="button" className="btn small" onClick={openHotkeySettings} title="Keyboard shortcuts and order size presets (F1)" data-testid="hotkey-settings">
        ⌨ Hotkeys
      </button>
      <button type="button" className="btn small" onClick={ws.reset} title="Back to the default layout">
        Reset layout
      </button>
      <button type="button" className="btn small" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label="Switch theme" data-testid="theme-toggle">
        {theme === 'dark' ? '☀ Light' : '☾ Dark'}
      </button>
      {user !== undefined && <span className="user">{user}</span>}
      {onSignOut && (
        <button type="button" className="btn small" onClick={() => void onSignOut()}>
          Sign out
        </button>
      )}
      <span className="clock muted">{new Date(now).toLocaleTimeString([], { hour12: false })}</span>
    </header>
  );
}

/** Hub mode: a firm profile that needs a password (and maybe a 2FA code) asks for it here. */
function HubLogin() {
  const live = useLive();
  const link = useLink();
  const [dismissed, setDismissed] = useState<string | undefined>();
  const st = live.hubStatus;
  const key = `${st?.profileId}|${st?.since}`;
  if (!live.backend.hub || link.state !== 'login_required' || dismissed === key) return null;
  return <HubLoginDialog onDismiss={() => setDismissed(key)} />;
}

function HubLoginDialog({ onDismiss }: { onDismiss(): void }) {
  const live = useLive();
  const link = useLink();
  const st = live.hubStatus;
  const ref = useRef<HTMLDivElement>(null);
  // it may open over an order's confirmation: the keyboard is its while it is open
  useModalKeys(ref, onDismiss);
  return (
    <div className="modal-backdrop">
      <div className="modal" ref={ref} role="dialog" aria-modal="true" aria-label="Sign in" tabIndex={-1} data-testid="hub-login">
        <LoginForm
          serverName={st?.profileName ?? link.serverName}
          initialUser={st?.username}
          note={st?.error?.code === 'SESSION_REVOKED' ? sessionEndedNote(st.error) : st?.error?.message}
          onCancel={onDismiss}
          offerRemember
          signIn={async (username, password, code, remember) => {
            await live.conn.call('hub.login', {
              remember,
              profileId: st?.profileId ?? 'local',
              username,
              password,
              ...(code !== undefined && code !== '' ? { totp: code } : {}),
            });
          }}
        />
      </div>
    </div>
  );
}
