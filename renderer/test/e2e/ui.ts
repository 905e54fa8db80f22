/** Page helpers for the E2E tests: what a trader does, in the words of the UI (labels, buttons, keys). */
import type { Locator, Page } from 'playwright-core';

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', password);
  await page.click('form.login button[type=submit]');
}

export const conn = (page: Page): Locator => page.getByTestId('connection');

/**
 * Where the local simulated market starts in the tests (a Monday at 12:00 UTC, before its open): within
 * trading hours it would start at the wall clock's time, outside them at the next open, and the tests would
 * see a different market by the time of day they run at.
 */
export const SIM_START = Date.UTC(2026, 0, 5, 12);

export async function waitConnected(page: Page, timeout = 20_000): Promise<void> {
  await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout });
}

export async function pickSymbol(page: Page, symbol: string): Promise<void> {
  await page.locator(`[data-testid=watchlist] tr[data-symbol="${symbol}"]`).click();
  await until(() => page.locator('#t-symbol').inputValue(), (v) => v === symbol, 5000, `ticket on ${symbol}`);
}

export interface TicketInput {
  side?: 'buy' | 'sell';
  type?: 'limit' | 'market' | 'stop' | 'stop_limit' | 'trailing_stop';
  qty?: string;
  price?: string;
  tif?: 'day' | 'gtc' | 'ioc' | 'fok';
}

/** Fills the ticket from the keyboard (Alt+B/Alt+S for the side) and presses Enter. */
export async function fillTicket(page: Page, t: TicketInput): Promise<void> {
  const ticket = page.getByTestId('ticket');
  if (t.type !== undefined) await page.selectOption('#t-type', t.type);
  if (t.tif !== undefined) await page.selectOption('#t-tif', t.tif);
  if (t.qty !== undefined) await page.fill('#t-qty', t.qty);
  if (t.price !== undefined) await page.fill('#t-price', t.price);
  if (t.side !== undefined) {
    await page.locator('#t-qty').focus();
    await page.keyboard.press(t.side === 'buy' ? 'Alt+B' : 'Alt+S');
    await ticket.locator(`.seg.side button.${t.side}.on`).waitFor();
  }
}

export async function submitTicket(page: Page): Promise<void> {
  await page.locator('#t-qty').focus();
  await page.keyboard.press('Enter');
}

export async function setConfirm(page: Page, on: boolean): Promise<void> {
  const box = page.getByTestId('ticket').getByLabel('Confirm before sending');
  if ((await box.isChecked()) !== on) await box.click();
}

export const workingRows = (page: Page): Locator => page.locator('[data-testid=blotter] [data-testid=working-row]');
export const workingRow = (page: Page, orderId: number | string): Locator =>
  page.locator(`[data-testid=blotter] tr[data-order-id="${orderId}"]`);

export async function tab(page: Page, id: 'working' | 'fills' | 'rejected' | 'all'): Promise<void> {
  await page.locator(`[data-testid=blotter] button[data-tab=${id}]`).click();
}

/** The chart's price lines (working orders `o<id>`, position `pos`). */
export async function chartLines(page: Page): Promise<string[]> {
  const v = await page.getByTestId('chart').getAttribute('data-lines');
  return (v ?? '').split(' ').filter((x) => x !== '');
}

/** Polls `read` until `ok` holds (or throws after `timeout` with the last value). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeout = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeout;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}

/** Distinct values a watchlist cell shows over a while: proof that quotes stream in. */
export async function watchCell(page: Page, symbol: string, field: 'last' | 'bid' | 'ask' | 'volume', distinct: number, timeout = 15_000): Promise<string[]> {
  const cell = page.locator(`[data-testid=watchlist] tr[data-symbol="${symbol}"] td[data-field=${field}]`);
  const seen = new Set<string>();
  await until(
    async () => {
      seen.add((await cell.textContent()) ?? '');
      return seen.size;
    },
    (n) => n >= distinct,
    timeout,
    `${distinct} different ${field} values for ${symbol}`,
  );
  return [...seen];
}

/** One attribute of every element a locator matches, in order. */
export async function attrAll(loc: Locator, name: string): Promise<string[]> {
  // read in one go: counting first and then reading each raced a re-render that removed an element (the
  // read of a gone element waits for it)
  return loc.evaluateAll((els, n) => els.map((e) => (e as unknown as { getAttribute(a: string): string | null }).getAttribute(n) ?? ''), name);
}
