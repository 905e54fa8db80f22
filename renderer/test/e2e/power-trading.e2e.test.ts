/**
 * Power-trader features end to end, against the headless host (local venue + simulated market) in
 * Chromium: the depth ladder places and cancels at the clicked price, a dragged chart order line sends a
 * replace that the blotter shows, the cancel handle cancels, right-click places a limit and sets an alert,
 * hotkeys place (with preview) and cancel all, size presets, drawings persist per symbol, the cheat sheet.
 *
 * Screenshots go to a temp folder, or to $TRADEDESK_SCREENSHOTS (e.g. docs/screenshots) when set.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstrumentView } from '../../../engine/protocol/index.js';
import { LOCAL_ACCOUNT_ID } from '../../../main/src/core.js';
import { MemoryStore } from '../../../main/src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../../../main/src/host/headless.js';
import { launch, openPage, realProblems, type WatchedPage } from './browser.js';
import { REPO, rendererBuild } from './build.js';
import { SIM_START, attrAll, until, waitConnected, workingRow, workingRows } from './ui.js';

const SHOTS = process.env['TRADEDESK_SCREENSHOTS'] !== undefined ? resolve(REPO, process.env['TRADEDESK_SCREENSHOTS']) : mkdtempSync(join(tmpdir(), 'td-shots-'));

const LAYOUT = {
  v: 1,
  columns: [
    {
      w: 19,
      panels: [
        { id: 'watchlist-1', kind: 'watchlist', h: 58, params: {} },
        { id: 'alerts-1', kind: 'alerts', h: 42, params: {} },
      ],
    },
    {
      w: 56,
      panels: [
        { id: 'chart-1', kind: 'chart', h: 66, params: { timeframe: '1m', ind: 'sma20,bb20-2,vwap,rsi14,macd12-26-9' } },
        { id: 'blotter-1', kind: 'blotter', h: 34, params: {} },
      ],
    },
    { w: 25, panels: [{ id: 'ladder-1', kind: 'ladder', h: 100, params: {} }] },
  ],
};

const GRID = {
  v: 1,
  columns: [0, 1].map((c) => ({
    w: 50,
    panels: [0, 1].map((r) => ({
      id: `chart-g${c}${r}`,
      kind: 'chart',
      h: 50,
      params: { timeframe: ['1m', '5m', '1m', '1h'][c * 2 + r]!, ind: r === 0 ? 'sma20,ema50,vwap' : 'bb20-2,rsi14', sync: true },
    })),
  })),
};

let host: HeadlessHost;
let dataDir: string;
let browser: Browser;
let w: WatchedPage;
let page: Page;
let inst: InstrumentView;
let symbol = '';

const price = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
const ladder = () => page.getByTestId('depth-ladder');
const row = (p: number): Locator => ladder().locator(`[role=row][data-price="${p}"]`);
/**
 * The ladder centred on the last price, and `p` or the nearest price it shows a row for, one row in from its
 * edge. The ladder shows the rows that fit (15 here) and re-centres only when the market drifts out of their
 * middle half, so a price a few ticks beyond the best ask or bid can be off it, and a click on a row that is
 * not there waits for it.
 */
async function onLadder(p: number): Promise<number> {
  await ladder().getByTestId('ladder-recenter').click();
  const shown = (await attrAll(ladder().locator('[role=row][data-price]'), 'data-price')).map(Number);
  return Math.min(Math.max(...shown) - inst.tickSize, Math.max(Math.min(...shown) + inst.tickSize, p));
}
const bestBid = async (): Promise<number> => Number(await ladder().locator('[role=row].best-bid').first().getAttribute('data-price'));
const venueOrder = (id: number | string) => host.core.venue.order(Number(id));
const chartLines = async () => ((await page.getByTestId('chart').getAttribute('data-lines')) ?? '').split(' ').filter((x) => x !== '');
/** My (the local account's) open orders in the symbol; the simulated market's agents have theirs too. */
/**
 * One print on the symbol: a market buy of one lot by the local account, at the best ask. An alert "below" a
 * level above the market is reached by it at once, rather than by the simulated market's next trade (which
 * on a busy CI machine did not come within 15 s).
 */
const printOnce = async (): Promise<void> => {
  const ack = await host.core.venue.submit({ type: 'PlaceOrder', accountId: LOCAL_ACCOUNT_ID, symbol, side: 'buy', orderType: 'market', qty: inst.lotSize, tif: 'ioc' });
  expect(ack.rejected).toBeUndefined();
};
const openIds = () => host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'open', symbol }).items.map((o) => o.orderId);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = rendererBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'td-power-'));
  host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: dir, credentials: new MemoryStore(), seed: 7, simStart: SIM_START });
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('power-trader features', () => {
  it('opens the ladder, the trading chart and the alerts on a liquid symbol', async () => {
    w = await openPage(browser, 'about:blank');
    page = w.page;
    page.setDefaultTimeout(10_000); // a step that cannot happen says which, rather than the test's own timeout
    // The first load gets this workspace; later reloads keep whatever the test made of it.
    await page.addInitScript(`if (localStorage.getItem('tradedesk.layout.v1') === null) localStorage.setItem('tradedesk.layout.v1', ${JSON.stringify(JSON.stringify(LAYOUT))});`);
    await page.goto(host.url);
    await waitConnected(page);
    // The watchlist symbol with the most volume so far: its book and tape are busy.
    const rows = page.locator('[data-testid=watchlist] tbody tr');
    await rows.first().waitFor();
    const listed = await attrAll(rows, 'data-symbol');
    symbol = listed.map((s) => ({ s, v: host.core.venue.view.quote(s)?.volume ?? 0 })).sort((a, b) => b.v - a.v)[0]!.s;
    inst = host.core.venue.view.instrument(symbol)!;
    await page.locator(`[data-testid=watchlist] tr[data-symbol="${symbol}"]`).click();
    await until(() => ladder().locator('.sym').textContent(), (t) => t === symbol, 10_000, 'the ladder on the symbol');
    await ladder().locator('[role=row].best-bid').first().waitFor({ timeout: 15_000 });
    // sizes and volumes with thousands separators, as everywhere else ("19,200", never "19200")
    const sizes = await ladder().locator('.pw-c-bid .pw-v, .pw-c-ask .pw-v, .pw-c-volume .pw-v').allTextContents();
    expect(sizes.filter((t) => t !== '').length).toBeGreaterThan(0);
    for (const t of sizes) expect(t).toMatch(/^(?:[1-9]\d{0,2}(?:,\d{3})*)?$/);
    await page.getByTestId('indicator-legend').waitFor();
    expect(await page.getByTestId('indicator-legend').textContent()).toMatch(/SMA 20 [\d,]+\.\d{2}.*RSI 14 \d+\.\d{2}.*MACD 12 26 9/);
  });

  let ladderOrder = '';
  it('ladder: a bid click asks once (first use), then places a buy limit at exactly that price', async () => {
    const target = await onLadder((await bestBid()) - 6 * inst.tickSize);
    await row(target).locator('[data-col=bid]').click();
    const dialog = page.getByTestId('order-preview');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Buy 100 ${symbol} limit ${price(target)} DAY`);
    await dialog.getByLabel("Don't ask again").check();
    await page.getByTestId('order-preview-send').click();
    const r = workingRows(page).first();
    await r.waitFor({ timeout: 10_000 });
    ladderOrder = (await r.getAttribute('data-order-id'))!;
    expect(venueOrder(ladderOrder)).toMatchObject({ side: 'buy', orderType: 'limit', price: target, qty: 100 });
    expect(await r.locator('[data-field=price]').textContent()).toBe(price(target));
    // My order shows in the ladder's Buy column at that price, and the confirmation is now off.
    await until(() => row(target).locator('[data-testid=own-buy]').textContent(), (t) => t === '100 ×', 5000, 'own order in the ladder');
    expect(await ladder().getByLabel('Confirm').isChecked()).toBe(false);
  });

  it('ladder: an ask click sells at that price at once (no second confirmation); an own-order click cancels', async () => {
    const bid = await bestBid();
    const ask = Number(await ladder().locator('[role=row].best-ask').first().getAttribute('data-price'));
    const target = await onLadder(Math.max(ask, bid) + 6 * inst.tickSize);
    const before = new Set(openIds());
    await row(target).locator('[data-col=ask]').click();
    const id = await until(() => Promise.resolve(openIds().filter((x) => !before.has(x))), (l) => l.length === 1, 10_000, 'the sell order');
    expect(venueOrder(id[0]!)).toMatchObject({ side: 'sell', orderType: 'limit', price: target });
    expect(await page.getByTestId('order-preview').count()).toBe(0);
    await row(target).locator('[data-col=sellOrders]').click();
    await until(() => Promise.resolve(venueOrder(id[0]!)?.status), (s) => s === 'canceled', 10_000, 'the cancel from the ladder');
  });

  it('chart: dragging the order line sends a replace; the blotter shows the new price', async () => {
    await until(chartLines, (l) => l.includes(`o${ladderOrder}`), 10_000, 'the order line');
    const grip = page.locator(`[data-order-line="o${ladderOrder}"] .pw-grip`);
    await grip.waitFor({ state: 'visible', timeout: 5000 });
    const box = (await grip.boundingBox())!;
    const old = venueOrder(ladderOrder)!.price!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + 30, { steps: 5 });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + 60, { steps: 5 });
    const shown = (await grip.textContent())!.split('⇕')[1]!.trim();
    await page.mouse.up();
    await until(() => workingRow(page, ladderOrder).locator('[data-field=price]').textContent(), (t) => t === shown, 10_000, 'the replaced price in the blotter');
    const now = venueOrder(ladderOrder)!;
    expect(now.price).toBeLessThan(old);
    expect(price(now.price!)).toBe(shown);
    expect(now.price! % inst.tickSize).toBe(0);
  });

  it('chart: right-click places a buy limit at that price; the cancel handle cancels an order', async () => {
    const canvas = page.locator('[data-testid=chart] .pw-chart-body');
    const box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.52, { button: 'right' });
    const menu = page.getByTestId('chart-menu');
    await menu.waitFor({ timeout: 5000 }).catch(async (e: unknown) => {
      await page.screenshot({ path: join(SHOTS, 'failed-right-click.png') });
      throw e;
    });
    const at = await menu.locator('.pw-menu-head').textContent();
    const buy = menu.locator('[data-action=buy-limit]');
    const sell = menu.locator('[data-action=sell-limit]');
    const before = new Set(openIds());
    await ((await buy.count()) > 0 ? buy : sell).click({ timeout: 5000 }).catch(async (e: unknown) => {
      await page.screenshot({ path: join(SHOTS, 'failed-right-click.png') });
      throw e;
    });
    const id = (await until(() => Promise.resolve(openIds().filter((x) => !before.has(x))), (l) => l.length === 1, 10_000, 'the right-click order'))[0]!;
    expect(price(venueOrder(id)!.price!)).toBe(at);
    await until(chartLines, (l) => l.includes(`o${id}`), 10_000, 'its line');
    await page.locator(`[data-order-line="o${id}"] .pw-x`).click({ timeout: 5000 });
    await until(() => Promise.resolve(venueOrder(id)?.status), (s) => s === 'canceled', 10_000, 'the cancel handle');
    await until(chartLines, (l) => !l.includes(`o${id}`), 5000, 'the line to go');
  });

  it('hotkeys: size preset, join the bid with a preview, then cancel all in the symbol', async () => {
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('3');
    await until(() => page.getByTestId('ladder-qty').textContent(), (t) => t === '500', 5000, 'size preset 3');
    await page.keyboard.press('1');
    await until(() => page.getByTestId('ladder-qty').textContent(), (t) => t === '100', 5000, 'size preset 1');
    const mine = () => host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'all', symbol }).items;
    const before = new Set(mine().map((o) => o.orderId));
    await page.keyboard.press('Alt+B');
    const dialog = page.getByTestId('order-preview');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(new RegExp(`Buy 100 ${symbol} limit [\\d.]+ DAY`));
    await page.keyboard.press('Enter');
    const placed = await until(
      () => Promise.resolve(mine().filter((o) => !before.has(o.orderId))),
      (l) => l.length === 1,
      10_000,
      'the hotkey order',
    );
    // Joined the bid: a buy limit (it may already have traded: the simulated market is live).
    expect(placed[0]).toMatchObject({ side: 'buy', orderType: 'limit', qty: 100 });
    expect(openIds().length).toBeGreaterThan(0); // the ladder order at least
    await page.keyboard.press('Shift+X');
    await until(() => Promise.resolve(openIds()), (l) => l.length === 0, 10_000, 'cancel all');
    await page.getByTestId('toasts').getByText(/^Canceled \d+ orders? in /).waitFor();
    expect(venueOrder(ladderOrder)?.status).toBe('canceled');
  });

  it('drawings: lines are drawn, selected and deleted, and kept for the symbol across a reload', async () => {
    const chart = page.getByTestId('chart');
    const body = (await chart.locator('.pw-chart-body').boundingBox())!;
    await chart.locator('[data-tool=hline]').click();
    await page.mouse.click(body.x + body.width * 0.3, body.y + body.height * 0.3);
    await until(() => chart.getAttribute('data-drawings'), (n) => n === '1', 5000, 'the horizontal line');
    await chart.locator('[data-tool=trend]').click();
    await page.mouse.click(body.x + body.width * 0.2, body.y + body.height * 0.55);
    await page.mouse.move(body.x + body.width * 0.45, body.y + body.height * 0.4, { steps: 4 });
    await page.mouse.click(body.x + body.width * 0.45, body.y + body.height * 0.4);
    await until(() => chart.getAttribute('data-drawings'), (n) => n === '2', 5000, 'the trend line');
    // Select the horizontal line elsewhere along it, and delete it with the Delete key.
    await page.mouse.click(body.x + body.width * 0.6, body.y + body.height * 0.3);
    await page.getByLabel('Delete drawing').waitFor({ timeout: 5000 });
    await page.keyboard.press('Delete');
    await until(() => chart.getAttribute('data-drawings'), (n) => n === '1', 5000, 'the deletion');
    await chart.locator('[data-tool=rect]').click();
    await page.mouse.click(body.x + body.width * 0.55, body.y + body.height * 0.12);
    await page.mouse.click(body.x + body.width * 0.75, body.y + body.height * 0.22);
    await chart.locator('[data-tool=text]').click();
    await chart.getByLabel('Text to place').fill('Range high');
    await page.mouse.click(body.x + body.width * 0.56, body.y + body.height * 0.1);
    await until(() => chart.getAttribute('data-drawings'), (n) => n === '3', 5000, 'rectangle and text');
    await page.reload();
    await waitConnected(page);
    await until(() => page.getByTestId('chart').getAttribute('data-drawings'), (n) => n === '3', 10_000, 'drawings after reload');
    await page.getByTestId('indicator-legend').waitFor();
  });

  it('alerts: set from a right-click on the chart, listed, removable', async () => {
    const body = (await page.locator('[data-testid=chart] .pw-chart-body').boundingBox())!;
    await page.mouse.click(body.x + body.width * 0.5, body.y + body.height * 0.15, { button: 'right' });
    const menu = page.getByTestId('chart-menu');
    const at = await menu.locator('.pw-menu-head').textContent();
    await menu.locator('[data-action=alert]').click();
    const list = page.getByTestId('alerts-list');
    const r = list.locator('tbody tr').first();
    await r.waitFor({ timeout: 10_000 });
    expect(await r.textContent()).toContain(at!);
    expect(host.core.venue.alerts(LOCAL_ACCOUNT_ID).filter((a) => a.status === 'armed').map((a) => price(a.price))).toEqual([at]);
    await r.getByRole('button', { name: /^Delete alert/ }).click();
    await until(() => list.locator('tbody tr').count(), (n) => n === 0, 10_000, 'the alert to go');
  });

  it('alerts: a triggered alert is announced and listed as hit', async () => {
    // "Below" a level above the market: the next print reaches it. (60 ticks: not the next test's 100, whose
    // toast would otherwise have the same text as this one's, still shown)
    const level = (await bestBid()) + 60 * inst.tickSize;
    await page.evaluate(`window.__tradedesk.conn.call('alerts.create', ${JSON.stringify({ symbol, direction: 'below', price: level })})`);
    await printOnce();
    await page.getByTestId('toasts').getByText(new RegExp(`^🔔 ${symbol} fell to ${price(level).replace('.', '\\.')}`)).waitFor({ timeout: 15_000 });
    const r = page.getByTestId('alerts-list').locator('tbody tr.triggered').first();
    await r.waitFor({ timeout: 5000 });
    expect(await r.textContent()).toMatch(/Hit \d+\.\d{2}/);
    await r.getByRole('button', { name: /^Delete alert/ }).click();
    await r.waitFor({ state: 'detached', timeout: 5000 });
  });

  it('alerts: set from the watchlist row menu (Shift+F10 or right-click), listed, triggered and notified, removed', async () => {
    const wl = page.getByTestId('watchlist');
    const list = page.getByTestId('alerts-list');
    const menu = page.getByTestId('watchlist-menu');
    const armed = () => host.core.venue.alerts(LOCAL_ACCOUNT_ID).filter((a) => a.status === 'armed' && a.symbol === symbol);
    await wl.locator(`tr[data-symbol="${symbol}"]`).click();
    // From the keyboard: Shift+F10 on the list opens the active row's menu, its first item focused.
    await wl.locator('.table-wrap').focus();
    await page.keyboard.press('Shift+F10');
    await menu.waitFor({ timeout: 5000 });
    expect(await menu.getAttribute('data-symbol')).toBe(symbol);
    expect(await menu.locator('[role=menuitem]').allTextContents()).toEqual(['Alert above…', 'Alert below…', 'Open chart', 'Open order ticket', 'Remove from watchlist']);
    expect(await page.evaluate(`document.activeElement?.dataset.action`)).toBe('alert-above');
    const box = (await page.locator('section.panel[data-panel=watchlist]').boundingBox())!;
    const mbox = (await menu.boundingBox())!;
    await page.screenshot({
      path: join(SHOTS, 'power-watchlist-alert.png'),
      clip: { x: box.x, y: box.y, width: Math.max(box.width, mbox.x + mbox.width - box.x) + 12, height: Math.max(box.height, mbox.y + mbox.height - box.y) + 12 },
    });
    // "Alert above…": a form prefilled with the last price; Escape cancels (nothing set, the focus back on the list).
    await page.keyboard.press('Enter');
    const input = menu.getByLabel('Alert price');
    await input.waitFor();
    const last = host.core.venue.view.quote(symbol)!.last!;
    const prefilled = Math.round(Number(await input.inputValue()) * 100);
    expect(Math.abs(prefilled - last)).toBeLessThanOrEqual(50 * inst.tickSize);
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await page.evaluate(`document.activeElement?.classList.contains('table-wrap')`)).toBe(true);
    expect(armed()).toEqual([]);
    // Again, with the context-menu key: a level far above the market (it stays armed), Enter sets it.
    await page.keyboard.press('ContextMenu');
    await menu.locator('[data-action=alert-above]').click();
    const far = (await bestBid()) + 400 * inst.tickSize;
    await input.fill(price(far));
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached' });
    await until(() => Promise.resolve(armed().map((a) => [a.direction, a.price])), (l) => l.length === 1, 10_000, 'the armed alert at the venue');
    expect(armed()[0]).toMatchObject({ direction: 'above', price: far });
    const r = list.locator('tbody tr', { hasText: price(far) });
    await r.waitFor({ timeout: 10_000 });
    await r.getByRole('button', { name: /^Delete alert/ }).click();
    await r.waitFor({ state: 'detached', timeout: 5000 });
    expect(armed()).toEqual([]);
    // Right-click the row: "Alert below…" a level above the market, so the next print reaches it.
    await wl.locator(`tr[data-symbol="${symbol}"]`).click({ button: 'right' });
    await menu.locator('[data-action=alert-below]').click();
    const level = (await bestBid()) + 100 * inst.tickSize;
    await input.fill(price(level));
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached' });
    await until(() => Promise.resolve(host.core.venue.alerts(LOCAL_ACCOUNT_ID).some((a) => a.price === level && a.direction === 'below')), (b) => b, 10_000, 'the alert below at the venue');
    await printOnce();
    await page.getByTestId('toasts').getByText(new RegExp(`^🔔 ${symbol} fell to ${price(level).replace('.', '\\.')}`)).waitFor({ timeout: 15_000 });
    const hit = list.locator('tbody tr.triggered', { hasText: price(level) }).first();
    await hit.waitFor({ timeout: 5000 });
    expect(await hit.textContent()).toMatch(/Hit \d+\.\d{2}/);
    expect(host.core.venue.alerts(LOCAL_ACCOUNT_ID).find((a) => a.price === level && a.direction === 'below')?.status).toBe('triggered');
    await hit.getByRole('button', { name: /^Delete alert/ }).click();
    await hit.waitFor({ state: 'detached', timeout: 5000 });
    // "Open order ticket" and "Open chart" on another row: that symbol in the panel, the keyboard there.
    const other = (await wl.locator('tbody tr[data-symbol]').nth(1).getAttribute('data-symbol'))!;
    expect(other).not.toBe(symbol);
    await wl.locator(`tr[data-symbol="${other}"]`).click({ button: 'right' });
    await menu.locator('[data-action=ticket]').click();
    await menu.waitFor({ state: 'detached' });
    await until(() => page.locator('#t-symbol').inputValue(), (v) => v === other, 5000, 'the ticket on the other symbol');
    // the keyboard moves to the quantity once the ticket has shown the symbol (a render after it)
    await until(() => page.evaluate(`document.activeElement?.id`), (id) => id === 't-qty', 5000, 'the keyboard in the quantity');
    await wl.locator(`tr[data-symbol="${symbol}"]`).click({ button: 'right' });
    await menu.locator('[data-action=chart]').click();
    await menu.waitFor({ state: 'detached' });
    const chartPanel = page.locator('section.panel[data-panel=chart]').first();
    await until(() => chartPanel.locator('.toolbar .sym').textContent(), (t) => t === symbol, 5000, 'the chart back on the symbol');
    expect(await page.evaluate(`document.activeElement?.closest('section.panel')?.dataset.panel`)).toBe('chart');
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('chart: bracket legs get lines; once the entry fills, dragging the take-profit leg re-prices that child', async () => {
    const ask = Number(await ladder().locator('[role=row].best-ask').first().getAttribute('data-price'));
    // A marketable entry (it fills at once), so the legs are live and the venue lets them change.
    const entry = ask + 2 * inst.tickSize;
    const tp = ask + 8 * inst.tickSize;
    const sl = ask - 8 * inst.tickSize;
    const rec = (await page.evaluate(
      `window.__tradedesk.conn.call('order.place', ${JSON.stringify({ symbol, side: 'buy', orderType: 'limit', qty: 100, price: entry, tif: 'day', bracket: { takeProfit: { price: tp }, stopLoss: { stopPrice: sl } } })})`,
    )) as { orderId: number };
    const legs = await until(
      () => Promise.resolve(host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'open', symbol }).items.filter((o) => o.parentId === rec.orderId && o.status !== 'pending_parent')),
      (l) => l.length === 2,
      10_000,
      'the live bracket legs',
    );
    const tpLeg = legs.find((o) => o.orderType === 'limit')!;
    const slLeg = legs.find((o) => o.orderType !== 'limit')!;
    await until(chartLines, (l) => l.includes(`o${tpLeg.orderId}`) && l.includes(`o${slLeg.orderId}s`), 10_000, 'take-profit and stop-loss lines');
    const grip = page.locator(`[data-order-line="o${tpLeg.orderId}"] .pw-grip`);
    await grip.waitFor({ state: 'visible', timeout: 5000 });
    const box = (await grip.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 - 25, { steps: 5 });
    const shown = (await grip.textContent())!.split('⇕')[1]!.trim();
    await page.mouse.up();
    await until(() => Promise.resolve(venueOrder(tpLeg.orderId)?.price), (p) => p !== undefined && price(p) === shown, 10_000, 'the re-priced take-profit');
    expect(venueOrder(tpLeg.orderId)!.price!).toBeGreaterThan(tp);
    expect(venueOrder(slLeg.orderId)!.stopPrice).toBe(sl);
  });

  it('screenshots: the ladder with my orders, the chart with orders, indicators, drawings and an alert', async () => {
    // A resting sell from the ladder (confirmation is off since the first use) and an alert from the form.
    const ask = Number(await ladder().locator('[role=row].best-ask').first().getAttribute('data-price'));
    const bid = await bestBid();
    const before = new Set(openIds());
    await row(await onLadder(ask + 4 * inst.tickSize)).locator('[data-col=ask]').click();
    await row(await onLadder(bid - 3 * inst.tickSize)).locator('[data-col=bid]').click();
    const ids = await until(() => Promise.resolve(openIds().filter((x) => !before.has(x))), (l) => l.length === 2, 10_000, 'a resting sell and buy');
    await until(chartLines, (l) => ids.every((id) => l.includes(`o${id}`)), 10_000, 'their lines');
    const form = page.getByTestId('alerts-list');
    await form.getByLabel('Alert price').fill(price(ask + 12 * inst.tickSize));
    await form.getByRole('button', { name: 'Add alert' }).click();
    await form.locator('tbody tr').first().waitFor();
    await page.getByTestId('toasts').waitFor({ state: 'detached', timeout: 10_000 }); // toasts fade, the chart settles
    await page.locator('[data-testid=chart]').screenshot({ path: join(SHOTS, 'power-chart.png') });
    await ladder().screenshot({ path: join(SHOTS, 'power-ladder.png') });
    await page.screenshot({ path: join(SHOTS, 'power-workspace.png') });
  });

  it('hotkeys: flatten previews, then cancels the symbol and closes the position at market', async () => {
    // The earlier tests' resting orders go first: one filling while the preview opens (the simulated market
    // moves on) would change the position it sizes
    await page.evaluate(`window.__tradedesk.conn.call('order.cancelAll', ${JSON.stringify({ symbol })})`);
    await until(() => Promise.resolve(openIds()), (l) => l.length === 0, 10_000, 'no order of the symbol working');
    await page.evaluate(`window.__tradedesk.conn.call('order.place', ${JSON.stringify({ symbol, side: 'buy', orderType: 'market', qty: 200, tif: 'ioc' })})`);
    const pos = () => host.core.venue.view.accountView(LOCAL_ACCOUNT_ID)?.positions.find((p) => p.symbol === symbol)?.qty ?? 0;
    await until(() => Promise.resolve(pos()), (q) => q > 0, 10_000, 'a long position');
    // The account view in the page has to know the position before the hotkey can size the order.
    await until(() => page.evaluate(`(window.__tradedesk.qc.getQueryData(['account'])?.positions ?? []).find((p) => p.symbol === ${JSON.stringify(symbol)})?.qty ?? 0`), (q) => q === pos(), 10_000, 'the position in the page');
    const qty = pos();
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('Shift+F');
    const dialog = page.getByTestId('order-preview');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Cancel all orders in ${symbol}, then sell ${qty} ${symbol} at market`);
    await page.keyboard.press('Enter');
    await until(() => Promise.resolve(pos()), (q) => q === 0, 10_000, 'a flat position');
    expect(openIds()).toEqual([]);
  });

  it('F1 shows the hotkey cheat sheet; Escape closes it', async () => {
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('F1');
    const sheet = page.getByTestId('hotkey-cheatsheet');
    await sheet.waitFor();
    expect(await sheet.locator('tr', { hasText: 'Buy at the ask' }).locator('kbd').textContent()).toBe('Shift+B');
    expect(await sheet.locator('tr', { hasText: 'Size preset 3 (500)' }).locator('kbd').textContent()).toBe('3');
    await sheet.screenshot({ path: join(SHOTS, 'power-hotkeys.png') });
    // Rebind: flatten → Ctrl+Alt+F; a chord in use is refused with the clash named; Defaults restores.
    const flatten = sheet.locator('tr[data-action=flatten]');
    await flatten.getByRole('button', { name: /^Change the key/ }).click();
    await page.keyboard.press('Control+Alt+KeyF');
    await until(() => flatten.locator('kbd').textContent(), (t) => t === 'Ctrl+Alt+F', 5000, 'the new key');
    const cancelAll = sheet.locator('tr[data-action=cancelAll]');
    await cancelAll.getByRole('button', { name: /^Change the key/ }).click();
    await page.keyboard.press('Shift+KeyB');
    expect(await page.getByTestId('hotkey-message').textContent()).toBe('Shift+B is already “Buy at the ask” there. Change that one first.');
    expect(await cancelAll.locator('kbd').textContent()).toBe('Shift+X');
    const stored = JSON.parse(((await page.evaluate(`localStorage.getItem('tradedesk.power.keymap')`)) as string | null) ?? '""') as string;
    expect(JSON.parse(stored).bindings).toContainEqual(expect.objectContaining({ action: 'flatten', chord: 'Ctrl+Alt+F' }));
    await sheet.getByRole('button', { name: 'Default keys' }).click();
    await until(() => flatten.locator('kbd').textContent(), (t) => t === 'Shift+F', 5000, 'the standard key back');
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('hotkey settings from the top bar: buy at the ask on a new key, then a size preset edited, picked by its key and ordered with', async () => {
    await page.getByTestId('hotkey-settings').click();
    const sheet = page.getByTestId('hotkey-cheatsheet');
    await sheet.waitFor();
    // Every action is listed (opened from the top bar: no panel filter), with where its keys work.
    expect(await sheet.locator('tr[data-action]').count()).toBe(13);
    expect(await sheet.locator('tr[data-action=buyAtAsk] td.where').textContent()).toBe('Trading panels');
    const buy = sheet.locator('tr[data-action=buyAtAsk]');
    await buy.getByRole('button', { name: /^Change the key/ }).click();
    await buy.getByText('Press keys…').waitFor();
    await page.keyboard.press('Shift+KeyU');
    await until(() => buy.locator('kbd').textContent(), (t) => t === 'Shift+U', 5000, 'the new key for buy at the ask');
    expect(await page.getByTestId('hotkey-message').textContent()).toBe('Buy at the ask: Shift+U');
    // Size preset 2: 200 → 300 (a bad value is refused and the old one kept).
    const p2 = sheet.getByRole('textbox', { name: 'Size preset 2', exact: true });
    await p2.fill('12.5');
    await p2.press('Enter');
    expect(await page.getByTestId('hotkey-message').textContent()).toBe('Size preset 2: Whole shares only');
    expect(await p2.inputValue()).toBe('200');
    await p2.fill('300');
    await p2.press('Enter');
    await until(() => sheet.locator('tr[data-action=sizePreset2] td').first().textContent(), (t) => t === 'Size preset 2 (300)', 5000, 'the new preset in the list');
    await sheet.screenshot({ path: join(SHOTS, 'power-hotkey-settings.png') });
    const stored = JSON.parse(JSON.parse(((await page.evaluate(`localStorage.getItem('tradedesk.power.keymap')`)) as string | null) ?? '""') as string) as { sizePresets: number[]; bindings: { action: string; chord: string }[] };
    expect(stored.sizePresets).toEqual([100, 300, 500, 1000, 5000]);
    expect(stored.bindings).toContainEqual(expect.objectContaining({ action: 'buyAtAsk', chord: 'Shift+U' }));
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });

    // Kept across a reload; in the ladder the preset buttons and key 2 give 300, and Shift+U buys 300 at the ask.
    await page.reload();
    await waitConnected(page);
    await ladder().locator('[role=row].best-ask').first().waitFor({ timeout: 15_000 });
    await ladder().locator('[role=grid]').focus();
    await page.keyboard.press('2');
    await until(() => page.getByTestId('ladder-qty').textContent(), (t) => t === '300', 5000, 'size preset 2 is 300');
    const mine = () => host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'all', symbol }).items;
    const before = new Set(mine().map((o) => o.orderId));
    await page.keyboard.press('Shift+B'); // the old key does nothing now
    await page.waitForTimeout(300);
    expect(await page.getByTestId('order-preview').count()).toBe(0);
    await page.keyboard.press('Shift+U');
    const dialog = page.getByTestId('order-preview');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(new RegExp(`Buy 300 ${symbol} limit [\\d.]+ DAY`));
    await page.keyboard.press('Enter');
    const placed = await until(() => Promise.resolve(mine().filter((o) => !before.has(o.orderId))), (l) => l.length === 1, 10_000, 'the order from the new key');
    expect(placed[0]).toMatchObject({ side: 'buy', orderType: 'limit', qty: 300 });
    await page.keyboard.press('Shift+X'); // whatever did not fill
    await until(() => Promise.resolve(openIds()), (l) => l.length === 0, 10_000, 'cancel all');

    // Back to the standard keys and sizes.
    await page.getByTestId('hotkey-settings').click();
    await sheet.getByRole('button', { name: 'Default keys' }).click();
    await sheet.getByRole('button', { name: 'Default sizes' }).click();
    await until(() => sheet.locator('tr[data-action=buyAtAsk] kbd').textContent(), (t) => t === 'Shift+B', 5000, 'the standard key back');
    await until(() => sheet.getByRole('textbox', { name: 'Size preset 2', exact: true }).inputValue(), (v) => v === '200', 5000, 'the standard sizes back');
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('a 2×2 grid of trading charts on one symbol with different timeframes and indicators', async () => {
    // Save the trading workspace by name first (restored at the end).
    await page.selectOption('select[aria-label="Add panel"]', 'layouts');
    const layouts = page.getByTestId('layouts');
    await layouts.getByLabel('Layout name').fill('Trading');
    await layouts.getByRole('button', { name: 'Save layout' }).click();
    await layouts.locator('tr[data-layout="Trading"]').waitFor();
    await page.evaluate(`localStorage.setItem('tradedesk.layout.v1', ${JSON.stringify(JSON.stringify(GRID))})`);
    await page.reload();
    await waitConnected(page);
    const charts = page.getByTestId('chart');
    await until(() => charts.count(), (n) => n === 4, 10_000, 'four charts');
    await until(() => page.getByTestId('indicator-legend').count(), (n) => n === 4, 15_000, 'four legends');
    // Crosshair sync: hovering one chart puts the crosshair on the same moment in the others.
    const body = (await charts.nth(0).locator('.pw-chart-body').boundingBox())!;
    await page.mouse.move(body.x + body.width * 0.4, body.y + body.height * 0.4);
    await page.mouse.move(body.x + body.width * 0.45, body.y + body.height * 0.4, { steps: 3 });
    const t1 = Number(await until(() => charts.nth(2).getAttribute('data-sync-crosshair'), (v) => v !== null, 5000, 'the crosshair in the other 1m chart'));
    const t5 = Number(await until(() => charts.nth(1).getAttribute('data-sync-crosshair'), (v) => v !== null, 5000, 'the crosshair in the 5m chart'));
    expect(t5).toBe(t1 - (t1 % 300_000));
    // Time sync between the two 1m charts: zooming one zooms the other; the 5m and 1h charts keep their range.
    await page.mouse.wheel(0, -400);
    const range = await until(() => charts.nth(2).getAttribute('data-sync-range'), (v) => v !== null, 5000, 'the other 1m chart to follow the zoom');
    expect(range).toMatch(/^\d+-\d+$/);
    expect(await charts.nth(1).getAttribute('data-sync-range')).toBeNull();
    await page.mouse.move(body.x + body.width * 0.6, body.y + body.height * 0.5, { steps: 3 });
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, 'power-multichart.png') });
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('a saved layout restores by name', async () => {
    expect(await ladder().count()).toBe(0);
    await page.selectOption('select[aria-label="Add panel"]', 'layouts');
    await page.getByTestId('layouts').locator('tr[data-layout="Trading"]').getByRole('button', { name: 'Restore' }).click();
    await ladder().waitFor({ timeout: 10_000 });
    await until(() => page.getByTestId('chart').count(), (n) => n === 1, 5000, 'one trading chart again');
    expect(await page.locator('[data-panel=watchlist]').count()).toBe(1);
    expect(await page.locator('[data-panel=alerts]').count()).toBe(1);
    expect(realProblems(w.problems)).toEqual([]);
  });
});
