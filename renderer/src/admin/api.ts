/**
 * The exchange server's user administration as the Admin panel reaches it: in a browser signed in to the
 * server, with its own session (ServerAuth); in the desktop app on a firm profile, through the hub, which
 * holds the session in the main process (`hub.admin`). Either way every answer is read through its schema.
 */
import { useMemo } from 'react';
import type { z } from 'zod';
import { readAnswer } from '../../../engine/protocol/index.js';
import { useHubStatus, useLive } from '../data/live.js';

export interface AdminApi {
  /** The administrator's user name (their own account's actions are refused). */
  readonly me: string | undefined;
  /** `timeoutMs`: how long to wait for the answer, beyond the default 15 s (a backup: minutes). */
  api<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown, opts?: { timeoutMs?: number }): Promise<z.output<S>>;
}

/** The administration, when an administrator of a server is signed in; undefined otherwise. */
export function useAdminApi(): AdminApi | undefined {
  const live = useLive();
  const hub = useHubStatus();
  const auth = live.backend.auth;
  const user = auth?.user;
  const firmAdmin = live.backend.hub && hub?.mode === 'firm' && hub.state === 'connected' && hub.role === 'admin' ? (hub.username ?? '') : undefined;
  return useMemo((): AdminApi | undefined => {
    if (auth !== undefined) return user?.role === 'admin' ? { me: user.username, api: (method, path, schema, body) => auth.api(method, path, schema, body) } : undefined;
    if (firmAdmin === undefined) return undefined;
    return {
      me: firmAdmin,
      api: async (method, path, schema, body, opts) => {
        const timeoutMs = opts?.timeoutMs;
        const params = { method, path, ...(body !== undefined ? { body: body as Record<string, unknown> } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
        // the window waits for the hub a little longer than the hub waits for the server
        return readAnswer(schema, await live.conn.call('hub.admin', params, timeoutMs !== undefined ? { timeoutMs: timeoutMs + 5_000 } : undefined), path);
      },
    };
  }, [auth, user, firmAdmin, live]);
}
