/**
 * Admin → Backups: the server's online backups (newest first) and "Back up now". A backup copies the venue,
 * its history, the users database and the key while trading goes on (server/src/backup.ts); the server keeps
 * the newest few in its backup folder, whose path is shown so that an operator can find them.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { z } from 'zod';
import { BackupSchema, BackupStatusSchema, type Backup, type BackupStatus } from '../../../engine/protocol/index.js';
import { formatQty, formatTime } from '../format/num.js';
import type { AdminApi } from './api.js';
import { Loaded, Notice, formatDate, type NoticeState } from './parts.js';

const backupsKey = ['admin', 'backups'] as const;
const statusKey = ['admin', 'backups', 'status'] as const;

/** 1536 → "1.5 KB", 212_000_000 → "202.2 MB" (binary units, one decimal). */
export function formatBytes(n: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(1)} ${units[i]}`;
}

/** 840 → "0.8 s", 65_000 → "1 min 5 s". */
export function formatTook(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const when = (b: Backup): string => {
  const t = Date.parse(b.createdAt);
  return `${formatDate(t)} ${formatTime(t)}`;
};

/** Who began a backup: "the schedule" or "admin". */
const whose = (r: { trigger: 'admin' | 'schedule'; by?: string | undefined }): string => (r.trigger === 'schedule' ? 'the schedule' : (r.by ?? 'an admin'));

export function Backups({ auth }: { auth: AdminApi }) {
  const qc = useQueryClient();
  const readList = (): Promise<Backup[]> => auth.api('GET', '/admin/backups', z.array(BackupSchema));
  const list = useQuery({ queryKey: backupsKey, queryFn: readList });
  const [notice, setNotice] = useState<NoticeState>();
  // when the backup this panel asked for began (its status's `since`, its manifest's createdAt)
  const mine = useRef<string | undefined>(undefined);
  /** The backup this panel asked for is over: say how it went. */
  const settled = async (since: string, st: BackupStatus): Promise<void> => {
    mine.current = undefined;
    const rows = await qc.fetchQuery({ queryKey: backupsKey, queryFn: readList, staleTime: 0 });
    const b = rows.find((r) => r.createdAt === since);
    if (b !== undefined) setNotice({ ok: true, text: `Backup made: ${formatBytes(b.bytes)} up to command ${formatQty(b.seq)}, in ${formatTook(b.tookMs)}.${b.key === 'environment' ? ' The server key is in its environment, not in the backup: keep it too.' : ''}` });
    else if (st.lastFailure !== null && st.lastFailure.at >= since) setNotice({ ok: false, text: st.lastFailure.message });
  };
  // the backup being made (by anyone: another admin, the schedule, this panel) and the last failure; asked
  // again every 2 s while one runs, and the list once it is done
  const status = useQuery({
    queryKey: statusKey,
    queryFn: async (): Promise<BackupStatus> => {
      const st = await auth.api('GET', '/admin/backups/status', BackupStatusSchema);
      const was = qc.getQueryData<BackupStatus>(statusKey);
      if (was?.running != null && st.running?.since !== was.running.since) {
        if (was.running.since === mine.current) void settled(was.running.since, st).catch((e: Error) => setNotice({ ok: false, text: e.message }));
        else void qc.invalidateQueries({ queryKey: backupsKey, exact: true });
      }
      return st;
    },
    refetchInterval: (q) => (q.state.data?.running != null ? (mine.current !== undefined ? 500 : 2_000) : false),
  });
  const make = useMutation({
    // answered as the backup begins (on a large venue it takes minutes, longer than a proxy may hold a
    // request): the status then says when it is done
    mutationFn: () => auth.api('POST', '/admin/backups?wait=false', BackupStatusSchema),
    onMutate: () => setNotice(undefined),
    onSuccess: (st) => {
      mine.current = st.running?.since;
      qc.setQueryData(statusKey, st);
    },
    onError: (e: Error) => setNotice({ ok: false, text: e.message }),
  });
  const newest = list.data?.[0];
  const running = status.data?.running ?? null;
  const failed = status.data?.lastFailure ?? null;
  // a failure older than the newest backup is over
  const failure = failed !== null && (newest === undefined || failed.at > newest.createdAt) ? failed : null;
  return (
    <div className="admin-body">
      <div className="toolbar">
        <button type="button" className="btn small primary" onClick={() => make.mutate()} disabled={make.isPending || running !== null} data-testid="backup-now">
          {make.isPending || running !== null ? 'Backing up…' : 'Back up now'}
        </button>
        <button
          type="button"
          className="btn small"
          onClick={() => {
            void list.refetch();
            void status.refetch();
          }}
          disabled={list.isFetching}
        >
          Refresh
        </button>
        <span className="muted backup-where" title={newest?.dir}>
          trading goes on while a backup is made{newest !== undefined ? ` · in ${newest.dir.slice(0, newest.dir.length - newest.name.length - 1)}` : ''}
        </span>
      </div>
      <Notice notice={notice} />
      {running !== null && (
        <div className="admin-notice" role="status" data-testid="backup-running">
          A backup is being made, since {formatTime(Date.parse(running.since))}, by {whose(running)}.
        </div>
      )}
      {failure !== null && !(notice !== undefined && !notice.ok) && (
        <div className="field-error block" role="alert" data-testid="backup-failed">
          The last backup, by {whose(failure)} at {formatDate(Date.parse(failure.at))} {formatTime(Date.parse(failure.at))}, failed: {failure.message.replace(/^The backup failed: /, '')}
        </div>
      )}
      <Loaded q={list} what="the backups" empty="No backups yet. Back up now, or start the server with --backup-every.">
        {(rows) => (
          <table className="grid" data-testid="admin-backups">
            <thead>
              <tr>
                <th className="l">Made</th>
                <th>Up to command</th>
                <th>Size</th>
                <th>Took</th>
                <th className="l">By</th>
                <th className="l">Folder</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((b) => (
                <tr key={b.name} data-testid="backup-row" data-name={b.name}>
                  <td className="l">{when(b)}</td>
                  <td>{formatQty(b.seq)}</td>
                  <td title={b.files.map((f) => `${f.file}: ${formatBytes(f.bytes)}`).join('\n')}>{formatBytes(b.bytes)}</td>
                  <td className="muted">{formatTook(b.tookMs)}</td>
                  <td className="l">{b.trigger === 'schedule' ? <span className="muted">schedule</span> : (b.by ?? '')}</td>
                  <td className="l muted wide" title={b.dir}>
                    {b.name}
                    {b.key === 'environment' ? ' · key not included' : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      {newest !== undefined && (
        <p className="muted backup-restore" data-testid="backup-restore">
          To restore one: stop the server, move its files aside, then run <code>tradedesk-server restore {newest.dir}</code> with the
          server's flags (<code>--db</code> and the others), and start it again.
        </p>
      )}
    </div>
  );
}
