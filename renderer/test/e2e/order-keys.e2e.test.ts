/**
 * Orders go out only on a deliberate key press, end to end against the headless host in Chromium: a held
 * key (the OS auto-repeats its keydown, `repeat` set) places at most one order, and never presses the Send
 * button of the confirmation that its first keydown opened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNT_ID } from '../../../main/src/core.js';
import { MemoryStore } from '../../../main/src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../../../main/src/host/headless.js';
import { launch, openPage } from './browser.js';
import { rendererBuild } from './build.js';
import { SIM_START, attrAll, setConfirm, until, waitConnected } from './ui.js';

const LAYOUT = {
  v: 1,
  columns: [
    { w: 30, panels: [{ id: 'watchlist-1', kind: 'watchlist', h: 100, params: {} }] },
    { w: 35, panels: [{ id: 'ticket-1', kind: 'ticket', h: 100, params: {} }] },
    { w: 35, panels: [{ id: 'ladder-1', kind: 'ladder', h: 100, params: {} }] },
  ],
};

let host: HeadlessHost;
let dataDir: string;
let browser: Browser;
let page: Page;
let symbol = '';

const mine = () => host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'all' }).items.map((o) => o.orderId);
const newest = () => Math.max(0, ...mine());
const ladder = () => page.getByTestId('depth-ladder');

/** Holds `key` down: the first keydown, `repeats` auto-repeated keydowns, then the keyup. */
async function hold(key: string, repeats: number): Promise<void> {
  await page.keyboard.down(key);
  for (let i = 0; i < repeats; i++) {
    await page.waitForTimeout(35);
    await page.keyboard.down(key); // Playwright marks a keydown of a key already down as a repeat
  }
  await page.keyboard.up(key);
}

/** Orders placed by `action`, counted after the UI had time to send whatever it would. */
async function placedBy(action: () => Promise<void>): Promise<number[]> {
  const before = newest();
  await action();
  await page.waitForTimeout(1200);
  return mine().filter((id) => id > before);
}

/** Focuses the ladder on the bid cell four rows below the best bid (a buy there rests on the book). */
async function focusBidCell(): Promise<void> {
  await ladder().getByTestId('ladder-recenter').click();
  const prices = await attrAll(ladder().locator('[role=row][data-price]'), 'data-price');
  const best = prices.indexOf((await ladder().locator('[role=row].best-bid').first().getAttribute('data-price'))!);
  // a click on the price cell moves the focus there and does nothing else; the bid cell is left of it
  await ladder().locator(`[role=row][data-price="${prices[best + 4]}"] [data-col=price]`).click();
  await page.keyboard.press('ArrowLeft');
}

beforeAll(async () => {
  const dir = rendererBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'td-keys-'));
  host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: dir, credentials: new MemoryStore(), seed: 7, simStart: SIM_START });
  browser = await launch();
  ({ page } = await openPage(browser, 'about:blank'));
  page.setDefaultTimeout(10_000);
  await page.addInitScript(`if (localStorage.getItem('tradedesk.layout.v1') === null) localStorage.setItem('tradedesk.layout.v1', ${JSON.stringify(JSON.stringify(LAYOUT))});`);
  await page.goto(host.url);
  await waitConnected(page);
  const rows = page.locator('[data-testid=watchlist] tbody tr');
  await rows.first().waitFor();
  const syms = await attrAll(rows, 'data-symbol');
  symbol = await until(
    () => Promise.resolve(syms.find((s) => host.core.venue.view.quote(s)?.bid != null && host.core.venue.view.quote(s)?.ask != null) ?? ''),
    (s) => s !== '',
    20_000,
    'a quoted symbol',
  );
  await page.locator(`[data-testid=watchlist] tr[data-symbol="${symbol}"]`).click();
  await until(() => page.locator('#t-symbol').inputValue(), (v) => v === symbol, 5000, 'the ticket on the symbol');
  await until(() => page.locator('#t-price').inputValue(), (v) => v !== '', 10_000, 'the ticket price seeded');
  await until(() => ladder().locator('.sym').textContent(), (t) => t === symbol, 10_000, 'the ladder on the symbol');
  await ladder().locator('[role=row].best-bid').first().waitFor({ timeout: 15_000 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('held keys', () => {
  it('ticket with "Confirm before sending": a held Enter opens the confirmation and does not send', async () => {
    await setConfirm(page, true);
    await page.locator('#t-qty').focus();
    const placed = await placedBy(() => hold('Enter', 4));
    expect(placed).toEqual([]);
    const dialog = page.getByTestId('confirm-dialog');
    expect(await dialog.isVisible()).toBe(true);
    // A fresh press of Enter in the confirmation sends, once.
    const sent = await placedBy(() => page.keyboard.press('Enter'));
    expect(sent).toHaveLength(1);
    expect(await dialog.count()).toBe(0);
    await setConfirm(page, false);
  });

  it('ladder without confirmation: a held Enter or Space places one order', async () => {
    if (await ladder().getByLabel('Confirm').isChecked()) await ladder().getByLabel('Confirm').uncheck();
    await focusBidCell();
    expect(await placedBy(() => hold('Enter', 5))).toHaveLength(1);
    await focusBidCell();
    expect(await placedBy(() => hold(' ', 5))).toHaveLength(1);
  });

  for (const key of ['Enter', ' ']) {
    it(`ladder with confirmation: a held ${key === ' ' ? 'Space' : key} opens the preview and does not send`, async () => {
      await ladder().getByLabel('Confirm').check();
      await focusBidCell();
      expect(await placedBy(() => hold(key, 5))).toEqual([]);
      const preview = page.getByTestId('order-preview');
      expect(await preview.isVisible()).toBe(true);
      // a fresh press of Enter on its focused Send sends, once
      expect(await placedBy(() => page.keyboard.press('Enter'))).toHaveLength(1);
      expect(await preview.count()).toBe(0);
    });
  }
});

describe('hotkeys in a linked panel', () => {
  it('trade the symbol the focused panel shows (its link group), not the window selection', async () => {
    const other = (await attrAll(page.locator('[data-testid=watchlist] tbody tr'), 'data-symbol')).find(
      (s) => s !== symbol && host.core.venue.view.quote(s)?.bid != null && host.core.venue.view.quote(s)?.ask != null,
    )!;
    await page.locator('section[data-panel=ladder] [data-testid=link-chip]').selectOption('red');
    host.core.links.set('red', { symbol: other });
    await until(() => ladder().locator('.sym').textContent(), (t) => t === other, 10_000, 'the red ladder on the other symbol');
    expect(await page.locator('#t-symbol').inputValue()).toBe(symbol); // the window's selection (the unlinked ticket)
    await ladder().locator('[role=row].best-ask').first().waitFor({ timeout: 15_000 });
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('Shift+B');
    const preview = page.getByTestId('order-preview');
    await preview.waitFor();
    expect(await preview.locator('.confirm-summary').textContent()).toContain(` ${other} `);
    const placed = await placedBy(() => page.keyboard.press('Enter'));
    expect(placed).toHaveLength(1);
    expect(host.core.venue.order(placed[0]!)).toMatchObject({ symbol: other, side: 'buy' });
    // the ticket, unlinked, trades the window's selection (focused outside its text fields, which keep their keys)
    await page.getByTestId('ticket').locator('.seg.side button.buy').focus();
    await page.keyboard.press('Shift+B');
    await preview.waitFor();
    expect(await preview.locator('.confirm-summary').textContent()).toContain(` ${symbol} `);
    await page.keyboard.press('Escape');
    expect(await preview.count()).toBe(0);
  });
});

describe('confirmation settings across windows', () => {
  it('a confirmation switched in one window applies at once in another open window', async () => {
    const other = await page.context().newPage();
    other.setDefaultTimeout(10_000);
    await other.goto(host.url);
    await waitConnected(other);
    const box = (p: Page) => p.getByTestId('ticket').getByLabel('Confirm before sending');
    await setConfirm(page, false);
    await until(() => box(other).isChecked(), (c) => !c, 5000, 'the ticket confirmation off in the other window');
    await setConfirm(page, true);
    await until(() => box(other).isChecked(), (c) => c, 5000, 'the ticket confirmation on in the other window');
    await setConfirm(page, false);

    // Hotkey previews: switched off here, the other window's ladder sends Shift+B at once ...
    const otherLadder = other.getByTestId('depth-ladder');
    await otherLadder.locator('[role=row].best-ask').first().waitFor({ timeout: 15_000 });
    const previewBox = () => page.getByLabel('Preview orders from hotkeys (Enter sends)');
    await page.getByTestId('hotkey-settings').click();
    await previewBox().uncheck();
    await page.keyboard.press('Escape');
    await otherLadder.locator('[role=grid]').focus();
    const before = newest();
    await other.keyboard.press('Shift+B');
    await until(() => Promise.resolve(mine().filter((id) => id > before).length), (n) => n === 1, 5000, 'the hotkey order sent at once');
    expect(await other.getByTestId('order-preview').count()).toBe(0);
    // ... and switched back on, it asks first.
    await page.getByTestId('hotkey-settings').click();
    await previewBox().check();
    await page.keyboard.press('Escape');
    await otherLadder.locator('[role=grid]').focus();
    await other.keyboard.press('Shift+B');
    await other.getByTestId('order-preview').waitFor({ timeout: 5000 });
    await other.keyboard.press('Escape');
    await other.close();
  });
});

describe('confirmation dialogs keep the keyboard', () => {
  /** Where the focus is: inside which dialog (its test id, '' for none) and the element's id. */
  const focusAt = () =>
    page.evaluate(`(() => { const e = document.activeElement; return { dialog: e?.closest('[role=dialog]')?.dataset.testid ?? '', id: e?.id ?? '' }; })()`) as Promise<{ dialog: string; id: string }>;

  /** Tab and Shift+Tab, several times each way, never take the focus out of dialog `id`. */
  async function tabsStayIn(id: string): Promise<void> {
    const seen: string[] = [];
    for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      seen.push((await focusAt()).dialog);
    }
    expect(seen).toEqual(seen.map(() => id));
  }

  it('the ticket confirmation: Tab stays inside, Escape closes it from anywhere, the focus goes back', async () => {
    await setConfirm(page, true);
    await page.locator('#t-qty').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.getAttribute('role')).toBe('dialog');
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    await tabsStayIn('confirm-dialog');
    // the focus taken away from it (a click outside, a script): Escape still closes it
    await page.evaluate(`document.activeElement?.blur()`);
    expect((await focusAt()).dialog).toBe('');
    await page.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    await until(focusAt, (f) => f.id === 't-qty', 2000, 'the focus back on the quantity');
    // and Tab from outside goes back into it
    const placed = await placedBy(async () => {
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.evaluate(`document.activeElement?.blur()`);
      await page.keyboard.press('Tab');
      expect((await focusAt()).dialog).toBe('confirm-dialog');
      await page.keyboard.press('Escape');
    });
    expect(placed).toEqual([]);
    expect(await dialog.count()).toBe(0);
    await setConfirm(page, false);
  });

  it('the hotkey preview: Tab stays inside, Escape closes it from anywhere, the focus goes back', async () => {
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('Shift+B');
    const preview = page.getByTestId('order-preview');
    await preview.waitFor();
    expect(await preview.getAttribute('role')).toBe('dialog');
    expect(await preview.getAttribute('aria-modal')).toBe('true');
    await tabsStayIn('order-preview');
    await page.evaluate(`document.activeElement?.blur()`);
    const placed = await placedBy(() => page.keyboard.press('Escape'));
    expect(placed).toEqual([]);
    expect(await preview.count()).toBe(0);
    expect(await page.evaluate(`document.activeElement?.getAttribute('role')`)).toBe('grid');
  });
});
