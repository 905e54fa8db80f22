/**
 * Single instance: a second launch does not start a second app (two processes would fight over the venue
 * database, which the venue locks anyway); it asks the first to come forward. The first focuses its
 * workspace window (restoring it if minimized), or, if all windows are closed (macOS), opens one.
 */
export interface FocusableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  isVisible(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

/** Brings the first instance forward. Returns 'focused', or 'reopen' when there is no window to focus. */
export function focusFirstInstance(main: FocusableWindow | undefined, others: readonly FocusableWindow[] = []): 'focused' | 'reopen' {
  const target = [main, ...others].find((w): w is FocusableWindow => w !== undefined && !w.isDestroyed());
  if (target === undefined) return 'reopen';
  if (target.isMinimized()) target.restore();
  if (!target.isVisible()) target.show();
  target.focus();
  return 'focused';
}
