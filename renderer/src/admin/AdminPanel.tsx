/**
 * Admin (exchange server, administrators only): the users (create with a temporary password, change role,
 * disable and enable, reset a forgotten password or a lost authenticator, deposit and withdraw cash), the
 * instruments (list, halt, resume), the audit log and the server's backups. Every change that signs a user out, cancels orders or
 * moves money is confirmed first and reports what it did.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { z } from 'zod';
import { auditActionMatches, auditAddress, AuditEntrySchema, ChangedUserSchema, PublicUserSchema, type AuditEntry, type ChangedUser, type PublicUser } from '../../../engine/protocol/index.js';
import { useEffect, useRef, useState, type FormEvent, type InputHTMLAttributes } from 'react';
import { useLive } from '../data/live.js';
import { upsertBy } from '../data/upsert.js';
import { formatMoney, formatQty, formatTime, parsePrice } from '../format/num.js';
import type { PanelProps } from '../panels/registry.js';
import { useAdminApi, type AdminApi } from './api.js';
import { actionSuggestions, detailsText } from './audit-text.js';
import { Instruments } from './Instruments.js';
import { Backups } from './Backups.js';
import { ConfirmBar, Loaded, Notice, formatDate, type ConfirmAction, type NoticeState } from './parts.js';
import { AUDIT_EXPORT_MAX, auditCsv, auditFileName, auditQuery, collectAudit, untilOf, type AuditFilter } from './audit-export.js';
import { saveTextFile } from '../data/save-file.js';

export type AdminUser = PublicUser;
type Changed = ChangedUser;
const usersKey = ['admin', 'users'] as const;
/** The user list, read by two tabs through one cache entry. */
const usersQuery = (auth: AdminApi) => ({ queryKey: usersKey, queryFn: () => auth.api('GET', '/admin/users', z.array(PublicUserSchema)) });

const ROLES = ['admin', 'trader', 'viewer'] as const;
/** Audit entries per page. */
export const AUDIT_PAGE = 200;

/** A change waiting for the admin's confirmation. */
type Pending = { kind: 'disable' | 'viewer' | 'password' | 'twofa' | 'cash'; user: AdminUser };
const TABS = { users: 'Users', instruments: 'Instruments', audit: 'Audit log', backups: 'Backups' } as const;
type Tab = keyof typeof TABS;

export function AdminPanel({ params, setParams }: PanelProps) {
  const auth = useAdminApi();
  if (auth === undefined) return <div className="empty">Only an administrator of the exchange server sees this panel.</div>;
  const tab: Tab = params.tab === 'audit' || params.tab === 'instruments' || params.tab === 'backups' ? params.tab : 'users';
  return (
    <div className="admin" data-testid="admin">
      <div className="tabs" role="tablist">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={`tab ${tab === t ? 'on' : ''}`} onClick={() => setParams({ tab: t })} data-tab={t}>
            {TABS[t]}
          </button>
        ))}
      </div>
      {tab === 'users' ? <Users auth={auth} /> : tab === 'instruments' ? <Instruments /> : tab === 'audit' ? <Audit auth={auth} /> : <Backups auth={auth} />}
    </div>
  );
}

/**
 * The users, kept live by the `admin.users` stream: another admin's change, or a user's own (a password
 * changed, 2FA turned on), shows as it happens; a changed user's cash and open orders are read again.
 */
function useUsers(auth: AdminApi) {
  const live = useLive();
  const qc = useQueryClient();
  // The list comes over HTTP and the changes over the socket, in no order between them: a change pushed
  // before the list has loaded may be newer than the list, so the list is read once more after it lands.
  const missed = useRef(false);
  useEffect(
    () =>
      live.retain(
        'admin.users',
        {},
        (u) => {
          const before = qc.getQueryData<AdminUser[]>(usersKey);
          if (before === undefined) {
            missed.current = true;
            return;
          }
          const after = qc.setQueryData<AdminUser[]>(usersKey, (prev) => upsertBy(prev, u, (x) => x.id === u.id));
          if (after !== before && u.accountId !== null) void qc.invalidateQueries({ queryKey: ['admin', 'account', u.accountId] });
        },
        () => void qc.invalidateQueries({ queryKey: usersKey }),
      ),
    [live, qc],
  );
  const q = useQuery(usersQuery(auth));
  useEffect(() => {
    if (q.data === undefined || !missed.current) return;
    missed.current = false;
    void qc.invalidateQueries({ queryKey: usersKey });
  }, [q.data, qc]);
  return q;
}

function Users({ auth }: { auth: AdminApi }) {
  const live = useLive();
  const qc = useQueryClient();
  const users = useUsers(auth);
  const [pending, setPending] = useState<Pending>();
  const [notice, setNotice] = useState<NoticeState>();
  const me = auth.me;

  // Every change answers with the sentence that says what it did.
  const change = useMutation({
    mutationFn: (go: () => Promise<string>) => go(),
    onSuccess: (text) => {
      setNotice({ ok: true, text });
      setPending(undefined);
    },
    onError: (e: Error) => setNotice({ ok: false, text: e.message }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['admin'] }),
  });
  const run = (path: string, done: (u: Changed) => string, body?: unknown) => change.mutate(async () => done(await auth.api('POST', path, ChangedUserSchema, body)));

  const setRole = (u: AdminUser, role: AdminUser['role']) => {
    if (role === u.role) return;
    if (role === 'viewer') return setPending({ kind: 'viewer', user: u });
    run(`/admin/users/${u.id}/role`, (r) => `${r.username} is now ${article(r.role)} ${r.role}.`, { role });
  };

  /** The confirmation of a pending change: its sentence, its input and its actions. */
  const confirmation = (p: Pending): { text: string; input?: { label: string; placeholder: string; secret?: boolean }; actions: ConfirmAction[] } => {
    const u = p.user;
    const name = u.username;
    switch (p.kind) {
      case 'disable':
        return {
          text: `Disable ${name}? They are signed out everywhere at once, and their working orders are canceled.`,
          actions: [{ label: 'Disable', cls: 'danger', run: () => run(`/admin/users/${u.id}/disable`, (r) => `${r.username} is disabled: signed out everywhere, ${orders(r.canceledOrders)}.`) }],
        };
      case 'viewer':
        return {
          text: `Make ${name} a viewer? A viewer cannot trade: their working orders are canceled.`,
          actions: [{ label: 'Make viewer', cls: 'danger', run: () => run(`/admin/users/${u.id}/role`, (r) => `${r.username} is now a viewer: ${orders(r.canceledOrders)}.`, { role: 'viewer' }) }],
        };
      case 'password':
        return {
          text: `Give ${name} a temporary password? They are signed out everywhere and must choose a new password at their next sign-in.`,
          input: { label: `Temporary password for ${name}`, placeholder: 'temporary password', secret: true },
          actions: [{ label: 'Set password', cls: 'primary', run: (password) => run(`/admin/users/${u.id}/password`, (r) => `${r.username} has a temporary password to change at their next sign-in; ${sessions(r.sessionsRevoked)}.`, { password }) }],
        };
      case 'twofa':
        return {
          text: `Turn off two-factor authentication for ${name}? Use this when they lost their authenticator and backup codes; they are signed out everywhere.`,
          actions: [{ label: 'Turn off 2FA', cls: 'primary', run: () => run(`/admin/users/${u.id}/2fa/reset`, (r) => `Two-factor authentication is off for ${r.username}; ${sessions(r.sessionsRevoked)}.`) }],
        };
      case 'cash': {
        const move = (kind: 'fund' | 'withdraw') => (text: string) => {
          const amount = parsePrice(text);
          if (!amount.ok || amount.value === 0) return setNotice({ ok: false, text: `Amount: ${amount.ok ? 'more than 0.00' : amount.error}` });
          change.mutate(async () => {
            const a = await live.conn.call(`admin.account.${kind}`, { accountId: u.accountId!, amount: amount.value }).catch((e: unknown) => {
              // the engine's message counts in cents; say it in money
              if ((e as { code?: string }).code === 'INSUFFICIENT_FUNDS') throw new Error(`Not enough cash in ${name}'s account #${u.accountId} to withdraw ${formatMoney(amount.value)}.`);
              throw e;
            });
            return `${kind === 'fund' ? 'Deposited' : 'Withdrew'} ${formatMoney(amount.value)} ${kind === 'fund' ? 'into' : 'from'} ${name}'s account #${a.accountId}: cash ${formatMoney(a.cash)}.`;
          });
        };
        return {
          text: `Move cash for ${name} (account #${u.accountId}):`,
          input: { label: `Amount for ${name}`, placeholder: '0.00' },
          actions: [
            { label: 'Deposit', cls: 'primary', run: move('fund') },
            { label: 'Withdraw', cls: '', run: move('withdraw') },
          ],
        };
      }
    }
  };

  return (
    <div className="admin-body">
      <CreateUser auth={auth} onCreated={(text) => setNotice({ ok: true, text })} />
      {pending !== undefined && <ConfirmBar key={`${pending.kind}:${pending.user.id}`} {...confirmation(pending)} busy={change.isPending} onCancel={() => setPending(undefined)} />}
      <Notice notice={notice} />
      <Loaded q={users} what="the users" empty="No users">
        {(rows) => (
          <table className="grid" data-testid="admin-users">
            <thead>
              <tr>
                <th className="l">User</th>
                <th className="l">Role</th>
                <th>Account</th>
                <th>Cash</th>
                <th>Open orders</th>
                <th className="l">Status</th>
                <th className="l">2FA</th>
                <th className="l">Created</th>
                <th className="l">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((u) => {
                const self = u.username === me;
                const busy = change.isPending || pending !== undefined;
                return (
                  <tr key={u.id} data-testid="admin-user" data-id={u.id} data-username={u.username} data-disabled={u.disabled} className={pending?.user.id === u.id ? 'sel' : u.disabled ? 'muted' : ''}>
                    <td className="l sym">
                      {u.username}
                      {self && <span className="muted"> (you)</span>}
                    </td>
                    <td className="l">
                      <select aria-label={`Role of ${u.username}`} value={u.role} disabled={self || busy} onChange={(e) => setRole(u, e.target.value as AdminUser['role'])}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className="num">{u.accountId === null ? '—' : `#${u.accountId}`}</td>
                    {u.accountId === null ? (
                      <>
                        <td className="num">—</td>
                        <td className="num">—</td>
                      </>
                    ) : (
                      <AccountCells accountId={u.accountId} />
                    )}
                    <td className="l" data-field="status">
                      {u.disabled ? <span className="down">Disabled</span> : u.mustChangePassword ? 'Temporary password' : 'Active'}
                    </td>
                    <td className="l">{u.totpEnabled ? 'On' : <span className="muted">Off</span>}</td>
                    <td className="l muted">{formatDate(u.createdAt)}</td>
                    <td className="l">
                      <div className="actions">
                      {u.disabled ? (
                        <button type="button" className="btn tiny" disabled={busy} onClick={() => run(`/admin/users/${u.id}/enable`, (r) => `${r.username} may sign in again.`)}>
                          Enable
                        </button>
                      ) : (
                        <button type="button" className="btn tiny danger" disabled={self || busy} title={self ? 'You cannot disable yourself' : undefined} onClick={() => setPending({ kind: 'disable', user: u })}>
                          Disable
                        </button>
                      )}
                      <button type="button" className="btn tiny" disabled={self || busy} title={self ? 'Change your own password from the sign-in screen' : undefined} onClick={() => setPending({ kind: 'password', user: u })}>
                        Reset password
                      </button>
                      {u.accountId !== null && (
                        <button type="button" className="btn tiny" disabled={busy} onClick={() => setPending({ kind: 'cash', user: u })}>
                          Cash
                        </button>
                      )}
                      {u.totpEnabled && (
                        <button type="button" className="btn tiny" disabled={self || busy} onClick={() => setPending({ kind: 'twofa', user: u })}>
                          Reset 2FA
                        </button>
                      )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Loaded>
    </div>
  );
}

/** A user's cash and open orders, read as an admin (admin.account.get); refreshed after every change. */
function AccountCells({ accountId }: { accountId: number }) {
  const live = useLive();
  const a = useQuery({ queryKey: ['admin', 'account', accountId], queryFn: () => live.conn.call('admin.account.get', { accountId }) });
  if (a.data === undefined) {
    const text = a.isError ? '?' : '…';
    return (
      <>
        <td className="num muted" title={a.error?.message}>
          {text}
        </td>
        <td className="num muted">{text}</td>
      </>
    );
  }
  return (
    <>
      <td className="num" data-field="cash">
        {formatMoney(a.data.cash)}
      </td>
      <td className="num" data-field="open-orders">
        {formatQty(a.data.openOrders)}
      </td>
    </>
  );
}

function CreateUser({ auth, onCreated }: { auth: AdminApi; onCreated: (text: string) => void }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<AdminUser['role']>('trader');
  const create = useMutation({
    mutationFn: () => auth.api('POST', '/admin/users', PublicUserSchema, { username: username.trim(), password, role }),
    onSuccess: (u) => {
      onCreated(`Created ${u.username} (${u.role}${u.accountId !== null ? `, account #${u.accountId}` : ''}): they choose their own password at their first sign-in.`);
      setUsername('');
      setPassword('');
      void qc.invalidateQueries({ queryKey: ['admin'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="toolbar admin-create" onSubmit={submit} data-testid="admin-create">
      <strong>New user</strong>
      <input aria-label="User name" placeholder="user name" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      <input aria-label="Temporary password" placeholder="temporary password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
      <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as AdminUser['role'])}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button type="submit" className="btn small primary" disabled={create.isPending || username.trim() === '' || password === ''}>
        Create
      </button>
      {create.isError && (
        <span className="field-error" role="alert" data-testid="admin-create-error">
          {create.error.message}
        </span>
      )}
    </form>
  );
}

/**
 * New entries of the audit log (orders' aside: one per order, they show on "Refresh") arrive on the
 * `admin.audit` stream and go on top of every loaded filter they match, each once; a filter still loading
 * is read again.
 */
function useAuditTail() {
  const live = useLive();
  const qc = useQueryClient();
  useEffect(
    () =>
      live.retain(
        'admin.audit',
        {},
        (e) => {
          for (const [key, data] of qc.getQueriesData<InfiniteData<AuditEntry[]>>({ queryKey: ['admin', 'audit'] })) {
            const [, , action, who, until, ip] = key as readonly [string, string, string, string, number | null, string];
            // a log read up to a moment gets nothing newer
            if (until !== null) continue;
            if (action !== '' && !auditActionMatches(action, e.action)) continue;
            if (who !== '' && String(e.userId) !== who) continue;
            if (ip !== '' && e.ip !== ip) continue;
            // still loading over HTTP, which may have read the log before this entry: read it again
            if (data === undefined || data.pages.length === 0) {
              void qc.invalidateQueries({ queryKey: key, exact: true });
              continue;
            }
            const first = data.pages[0]!;
            if (first.some((x) => x.id === e.id)) continue;
            const page = [e, ...first].sort((a, b) => b.id - a.id);
            qc.setQueryData<InfiniteData<AuditEntry[]>>(key, { ...data, pages: [page, ...data.pages.slice(1)] });
          }
        },
        () => void qc.invalidateQueries({ queryKey: ['admin', 'audit'] }),
      ),
    [live, qc],
  );
}

function Audit({ auth }: { auth: AdminApi }) {
  const live = useLive();
  const [filter, setFilter] = useState('');
  const [who, setWho] = useState('');
  const [address, setAddress] = useState('');
  // "At or before": a local date and time (datetime-local), '' for the latest entries
  const [at, setAt] = useState('');
  const users = useUsers(auth);
  // asked for once typing pauses, not at every key
  const action = useSettled(filter.trim(), FILTER_SETTLE_MS);
  const until = untilOf(at);
  // as the log holds addresses (auditAddress), so the live tail compares alike; undefined: not an address
  const typedIp = auditAddress(useSettled(address, FILTER_SETTLE_MS));
  const badIp = typedIp === undefined;
  const ip = typedIp ?? '';
  const f: AuditFilter = { action, userId: who, ip, until };
  // Pages of AUDIT_PAGE entries, newest first; "Older entries" asks for the ones before the last shown.
  // an address the server would refuse is said here, and not asked for
  const pages = useInfiniteQuery({
    queryKey: ['admin', 'audit', action, who, until ?? null, ip],
    enabled: !badIp,
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) => auth.api('GET', auditQuery(f, AUDIT_PAGE, pageParam), z.array(AuditEntrySchema)),
    // (the first page grows with the entries pushed on top of it)
    getNextPageParam: (last) => (last.length >= AUDIT_PAGE ? last[last.length - 1]!.id : undefined),
  });
  useAuditTail();
  const q = { data: badIp ? [] : pages.data?.pages.flat(), error: badIp ? null : pages.error, isFetching: pages.isFetching, refetch: pages.refetch };
  const [notice, setNotice] = useState<NoticeState>();
  const [exporting, setExporting] = useState<{ n: number; stop: AbortController }>();
  const serverName = live.backend.name ?? live.hubStatus?.serverName ?? live.hubStatus?.profileName ?? location.host;
  const exportCsv = async (): Promise<void> => {
    // the filter as typed now: the list waits for typing to pause, an export asked for is of what is typed
    const typedNow = auditAddress(address);
    if (typedNow === undefined) {
      setNotice({ ok: false, text: `“${address.trim()}” is not an IP address (IPv4 or IPv6)` });
      return;
    }
    const exported: AuditFilter = { action: filter.trim(), userId: who, ip: typedNow, until };
    const stop = new AbortController();
    setNotice(undefined);
    setExporting({ n: 0, stop });
    try {
      const { entries, more } = await collectAudit(auth, exported, { signal: stop.signal, onProgress: (n) => setExporting({ n, stop }) });
      const out = await saveTextFile(live, auditFileName(serverName, entries), auditCsv(entries));
      if (!out.saved) return;
      const last = entries.at(-1);
      setNotice({
        ok: true,
        text:
          `${entries.length.toLocaleString('en')} ${entries.length === 1 ? 'entry' : 'entries'} exported${out.path !== undefined ? ` to ${out.path}` : ''}.` +
          (more && last !== undefined ? ` The newest ${AUDIT_EXPORT_MAX.toLocaleString('en')} only: for older ones, set "At or before" to ${formatDate(last.ts)} ${formatTime(last.ts)} and export again.` : ''),
      });
    } catch (e) {
      if (!stop.signal.aborted) setNotice({ ok: false, text: `The export failed: ${(e as Error).message}` });
    } finally {
      setExporting(undefined);
    }
  };
  return (
    <div className="admin-body">
      <div className="toolbar">
        <select aria-label="User" value={who} onChange={(e) => setWho(e.target.value)}>
          <option value="">All users</option>
          {(users.data ?? []).map((u) => (
            <option key={u.id} value={String(u.id)}>
              {u.username}
            </option>
          ))}
        </select>
        <FilterInput aria-label="Action" className="audit-action-filter" placeholder="action, e.g. admin or order.cancel" list="audit-actions" value={filter} onValue={setFilter} />
        <FilterInput
          aria-label="From address"
          className="audit-ip-filter"
          placeholder="from address"
          title="Entries from this address: sign-ins and their failures, 2FA, cancels, admin actions; with a user chosen, their placed orders too"
          value={address}
          onValue={setAddress}
          data-testid="audit-ip"
        />
        <datalist id="audit-actions">
          {actionSuggestions(q.data ?? []).map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label className="audit-until">
          <span className="muted">At or before</span>
          <input type="datetime-local" step={1} aria-label="At or before" value={at} onChange={(e) => setAt(e.target.value)} data-testid="audit-until" />
        </label>
        {at !== '' && (
          <button type="button" className="btn small" onClick={() => setAt('')} title="The latest entries" data-testid="audit-latest">
            Latest
          </button>
        )}
        <button type="button" className="btn small" onClick={() => void q.refetch()} disabled={q.isFetching}>
          Refresh
        </button>
        {exporting === undefined ? (
          <button type="button" className="btn small" onClick={() => void exportCsv()} disabled={badIp} title={`The entries under this filter, newest first (up to ${AUDIT_EXPORT_MAX.toLocaleString('en')}), as a CSV file`} data-testid="audit-export">
            Export CSV
          </button>
        ) : (
          <button type="button" className="btn small" onClick={() => exporting.stop.abort()} data-testid="audit-export-cancel">
            Exporting {exporting.n.toLocaleString('en')}… Cancel
          </button>
        )}
        <span className="muted">
          newest first{until !== undefined ? ` at or before ${formatDate(until)} ${formatTime(until)}` : ''}
          {q.data !== undefined ? ` · ${q.data.length}${pages.hasNextPage ? '+' : ''} entries` : ''}
        </span>
        {ip !== '' && who === '' && (action === '' || auditActionMatches('order', action)) && (
          <span className="muted" data-testid="audit-ip-note" title="One entry per order: by address, they are read with a user chosen">
            · placed orders from an address: choose a user
          </span>
        )}
        {until === undefined && !(ip !== '' && who === '') && (action === '' || auditActionMatches('order', action)) && (
          <span className="muted" data-testid="audit-orders-note" title="One entry per order: they are not pushed as they happen">
            · new orders' entries show on Refresh
          </span>
        )}
      </div>
      <Notice notice={notice} />
      <Loaded
        q={q}
        what="the audit log"
        empty={badIp ? `“${address.trim()}” is not an IP address (IPv4 or IPv6)` : `No entries${action !== '' || who !== '' || ip !== '' || until !== undefined ? ' for this filter' : ''}`}
      >
        {(rows) => (
          <table className="grid" data-testid="admin-audit">
            <thead>
              <tr>
                <th className="l">When</th>
                <th className="l">Who</th>
                <th className="l">Action</th>
                <th className="l">Details</th>
                <th className="l">From</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="audit-row" data-action={r.action} data-id={r.id} data-ts={r.ts}>
                  <td className="l muted">
                    {formatDate(r.ts)} {formatTime(r.ts)}
                  </td>
                  <td className="l">{r.username ?? <span className="muted">—</span>}</td>
                  <td className={`l ${/failed|reuse/.test(r.action) ? 'down' : ''}`}>{r.action}</td>
                  <td className="l wide audit-details">{detailsText(r.details)}</td>
                  <td className="l muted">
                    {r.ip !== null && r.ip !== ip ? (
                      <button type="button" className="audit-from" title={`Entries from ${r.ip}`} onClick={() => setAddress(r.ip!)} data-testid="audit-from">
                        {r.ip}
                      </button>
                    ) : (
                      (r.ip ?? '')
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
            {pages.hasNextPage && (
              <tfoot>
                <tr>
                  <td colSpan={5} className="l">
                    <button type="button" className="btn small" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage} data-testid="audit-older">
                      Older entries
                    </button>
                  </td>
                </tr>
              </tfoot>
            )}
          </table>
        )}
      </Loaded>
    </div>
  );
}

const article = (role: string) => (role === 'admin' ? 'an' : 'a');
const orders = (n: number | undefined) => (n === undefined || n === 0 ? 'no working orders to cancel' : n === 1 ? '1 working order canceled' : `${n} working orders canceled`);
const sessions = (n: number | undefined) => (n === 1 ? '1 session ended' : `${n ?? 0} sessions ended`);

/** A filter's text box: Escape clears it. */
function FilterInput({ value, onValue, ...rest }: { value: string; onValue: (v: string) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  return (
    <input
      {...rest}
      value={value}
      onChange={(e) => onValue(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onValue('');
      }}
    />
  );
}

/** How long the audit log's action filter waits after the last key before it asks the server. */
const FILTER_SETTLE_MS = 250;

/** `value`, once it has stayed the same for `ms` (the first value at once). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}
