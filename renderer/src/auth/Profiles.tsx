/**
 * Hub modes (desktop, headless host): which connection every window uses. The local simulation or a firm
 * server profile; "Add firm server…" saves a profile and connects to it, and the sign-in (with 2FA) then
 * goes through `hub.login`, so the password and tokens stay in main and the OS keychain.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { isProtocolError } from '../../../engine/protocol/index.js';
import { useConnecting, useLink, useLive } from '../data/live.js';
import { reasonFor } from '../format/reasons.js';
import { useModalKeys } from '../ui/modal.js';

const ADD = '__add__';

export function ProfileMenu() {
  const live = useLive();
  const qc = useQueryClient();
  const link = useLink();
  const profiles = useQuery({ queryKey: ['hub.profiles'], queryFn: () => live.conn.call('hub.profiles.list'), enabled: live.backend.hub });
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const connecting = useConnecting();
  const active = live.hubStatus?.profileId ?? profiles.data?.activeId;
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['hub.profiles'] });
  }, [qc, active, link.state]);
  if (!live.backend.hub || profiles.data === undefined) return null;

  const connect = async (profileId: string, name: string) => {
    try {
      setError(undefined);
      await live.connectProfile(profileId, name);
    } catch (e) {
      setError(reasonFor(isProtocolError(e) ? e.code : undefined, e instanceof Error ? e.message : undefined, 'signin'));
    }
  };

  return (
    <>
      <select
        className="menu"
        aria-label="Connection"
        title={error ?? 'Where orders go: the local simulation or a firm server'}
        // the profile picked shows while the hub is still connecting to it
        value={connecting?.profileId ?? active ?? ''}
        onChange={(e) => {
          const id = e.target.value;
          if (id === ADD) setAdding(true);
          else void connect(id, profiles.data.profiles.find((p) => p.id === id)?.name ?? id);
        }}
      >
        {profiles.data.profiles.map((p) => (
          <option key={p.id} value={p.id}>
            {p.kind === 'local' ? 'Local simulation' : `${p.name}${p.url ? ` (${hostOf(p.url)})` : ''}`}
          </option>
        ))}
        <option value={ADD}>+ Add firm server…</option>
      </select>
      {adding && (
        <AddProfile
          onCancel={() => setAdding(false)}
          onSaved={async (id, name) => {
            setAdding(false);
            await qc.invalidateQueries({ queryKey: ['hub.profiles'] });
            await connect(id, name);
          }}
        />
      )}
    </>
  );
}

function AddProfile({ onCancel, onSaved }: { onCancel(): void; onSaved(id: string, name: string): Promise<void> }) {
  const live = useLive();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('https://');
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | undefined>();
  const ref = useRef<HTMLFormElement>(null);
  useModalKeys(ref, onCancel);
  return (
    <div className="modal-backdrop">
      <form
        ref={ref}
        tabIndex={-1}
        className="modal login"
        role="dialog"
        aria-modal="true"
        aria-labelledby="pf-title"
        data-testid="add-profile"
        onSubmit={(e) => {
          e.preventDefault();
          live.conn
            .call('hub.profiles.save', { name: name.trim(), url: url.trim(), ...(username.trim() !== '' ? { username: username.trim() } : {}) })
            .then((p) => onSaved(p.id, p.name))
            .catch((err: unknown) => {
              const code = isProtocolError(err) ? err.code : undefined;
              // what is wrong with the address, when that is it (plain http to another machine, a password in it)
              const issues = isProtocolError(err) ? (err.details as { issues?: { path?: unknown[]; message?: string }[] } | undefined)?.issues : undefined;
              const about = issues?.find((i) => i.path?.[0] === 'url')?.message;
              setError(
                code === 'BAD_REQUEST'
                  ? (about ?? 'Check the name and the address: https://host[:port], no user name or password in it.')
                  : reasonFor(code, err instanceof Error ? err.message : undefined, 'signin'),
              );
            });
        }}
      >
        <h2 id="pf-title">Add a firm server</h2>
        <label htmlFor="pf-name">Name</label>
        <input id="pf-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Desk prod" required autoFocus />
        <label htmlFor="pf-url">Server address</label>
        <input id="pf-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://desk.firm.example" required spellCheck={false} />
        <label htmlFor="pf-user">User name (optional)</label>
        <input id="pf-user" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" />
        {error && (
          <div className="field-error block" role="alert">
            {error}
          </div>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn primary">
            Save and connect
          </button>
        </div>
      </form>
    </div>
  );
}

/** A profile's server as shown in the list: its host, or the address as saved when it is not a URL. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
