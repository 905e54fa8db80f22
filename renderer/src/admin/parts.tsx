/** Pieces the Admin panel's tabs share: the confirmation bar, the outcome notice and the table's states. */
import { useState, type ReactNode } from 'react';

export interface NoticeState {
  ok: boolean;
  text: string;
}

/** What the last change did, or why it was refused (the server's message). */
export function Notice({ notice }: { notice: NoticeState | undefined }) {
  if (notice === undefined) return null;
  return (
    <div className={notice.ok ? 'admin-notice' : 'field-error block'} role={notice.ok ? 'status' : 'alert'} data-testid="admin-notice" data-ok={notice.ok}>
      {notice.text}
    </div>
  );
}

export interface ConfirmAction {
  label: string;
  cls: 'danger' | 'primary' | '';
  run(value: string): void;
}

/**
 * A change waiting for the admin's word: what it will do, an optional input (a temporary password, an
 * amount), its actions (Enter runs the first) and Cancel (or Escape).
 */
export function ConfirmBar({
  text,
  input,
  actions,
  busy,
  onCancel,
}: {
  text: string;
  input?: { label: string; placeholder: string; secret?: boolean };
  actions: ConfirmAction[];
  busy: boolean;
  onCancel: () => void;
}) {
  const [value, setValue] = useState('');
  const blocked = busy || (input !== undefined && value.trim() === '');
  return (
    <form
      className="admin-confirm"
      role="alertdialog"
      aria-label={actions[0]!.label}
      data-testid="admin-confirm"
      onSubmit={(e) => {
        e.preventDefault();
        if (!blocked) actions[0]!.run(value);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <span>{text}</span>
      {input !== undefined && (
        <input
          aria-label={input.label}
          placeholder={input.placeholder}
          type={input.secret === true ? 'password' : 'text'}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoComplete={input.secret === true ? 'new-password' : 'off'}
          autoFocus
        />
      )}
      <span className="spacer" />
      {actions.map((a, i) => (
        <button
          key={a.label}
          type={i === 0 ? 'submit' : 'button'}
          className={`btn small ${a.cls}`}
          disabled={blocked}
          autoFocus={input === undefined && i === 0}
          onClick={i === 0 ? undefined : () => a.run(value)}
        >
          {a.label}
        </button>
      ))}
      <button type="button" className="btn small" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

/** A tab's table once its data is there; loading, a failure ("Could not load <what>") or `empty` before. */
export function Loaded<T>({ q, what, empty, children }: { q: { data: T[] | undefined; error: Error | null }; what: string; empty: string; children: (rows: T[]) => ReactNode }) {
  return (
    <div className="table-wrap">
      {q.error !== null ? (
        <div className="empty">
          Could not load {what}: {q.error.message}
        </div>
      ) : q.data === undefined ? (
        <div className="empty">Loading…</div>
      ) : q.data.length === 0 ? (
        <div className="empty">{empty}</div>
      ) : (
        children(q.data)
      )}
    </div>
  );
}

const pad2 = (n: number) => String(n).padStart(2, '0');
/** A day as 2026-12-06 (local time). */
export function formatDate(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}
