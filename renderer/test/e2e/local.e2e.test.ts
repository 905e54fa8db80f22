/**
 * The workstation against the headless host (the desktop's hub + local venue + simulated market under
 * plain Node, served to Chromium): SIMULATION on every order-entry surface, live quotes from the simulated
 * market, and the order life cycle through the ticket and the blotter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstrumentView } from '../../../engine/protocol/index.js';
import { LOCAL_ACCOUNT_ID } from '../../../main/src/core.js';
import { MemoryStore } from '../../../main/src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../../../main/src/host/headless.js';
import { launch, openPage, realProblems, type WatchedPage } from './browser.js';
import { formatPrice, formatQty, priceInput } from '../../src/format/num.js';
import { rendererBuild } from './build.js';
import { SIM_START, attrAll, chartLines, fillTicket, pickSymbol, setConfirm, submitTicket, tab, until, waitConnected, workingRow, workingRows } from './ui.js';

let host: HeadlessHost;
let dataDir: string;
let browser: Browser;
let w: WatchedPage;
let page: Page;
let inst: InstrumentView;

/** A price `pct` percent below the market, on the tick and inside the band, as the ticket would type it. */
/** Layout checks: a locator's box on the page; whether one box lies within another (half a pixel of rounding
 * allowed), or overlaps it. */
type Box = { x: number; y: number; width: number; height: number };
const box = async (l: ReturnType<Page['locator']>): Promise<Box> => (await l.boundingBox())!;
const inside = (a: Box, b: Box) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function below(ref: number, pct: number): string {
  const raw = Math.max(inst.bandLow, Math.floor((ref * (100 - pct)) / 100));
  const p = raw - (raw % inst.tickSize) + (raw % inst.tickSize === 0 ? 0 : inst.tickSize);
  return `${Math.floor(p / 100)}.${String(p % 100).padStart(2, '0')}`;
}

beforeAll(async () => {
  const dir = rendererBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'td-host-'));
  host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: dir, credentials: new MemoryStore(), seed: 42, simStart: SIM_START });
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('local simulation through the headless host', () => {
  it('connects without a sign-in and labels every order-entry surface SIMULATION', async () => {
    const cfg = (await (await fetch(new URL('/config.json', host.url))).json()) as { kind: string };
    expect(cfg.kind).toBe('hub');
    w = await openPage(browser, host.url);
    page = w.page;
    await waitConnected(page);
    expect(await page.locator('.topbar [data-testid=mode-badge]').textContent()).toBe('SIMULATION');
    expect(await page.locator('[data-testid=ticket] [data-testid=mode-badge]').textContent()).toBe('SIMULATION');
    expect(await page.locator('[data-panel=blotter] [data-testid=mode-badge]').textContent()).toBe('SIMULATION');
  });

  it('streams the simulated market into the watchlist, the index and the tape', async () => {
    const first = page.locator('[data-testid=watchlist] tbody tr').first();
    await first.waitFor();
    const symbols = await attrAll(page.locator('[data-testid=watchlist] tbody tr'), 'data-symbol');
    expect(symbols.length).toBeGreaterThanOrEqual(10);
    // Some symbol's quote changes within a few seconds of simulated trading.
    await until(
      async () => {
        const a = await page.locator('[data-testid=watchlist] td[data-field=bid]').allTextContents();
        await new Promise((r) => setTimeout(r, 300));
        const b = await page.locator('[data-testid=watchlist] td[data-field=bid]').allTextContents();
        return a.some((x, i) => x !== b[i]);
      },
      (changed) => changed,
      20_000,
      'a bid to change',
    );
    await page.getByTestId('index-row').waitFor();
    expect(await page.getByTestId('index-row').textContent()).toMatch(/SIM10\s*[\d,]+\.\d{2}/);
    // on a small screen (1024 x 700) the index stays on one line inside the watchlist: its count of stocks gives way
    await page.setViewportSize({ width: 1024, height: 700 });
    try {
      const ix = page.getByTestId('index-row');
      const row = (await ix.boundingBox())!;
      const shown = [];
      for (const span of await ix.locator('span').all()) if (await span.isVisible()) shown.push(span);
      expect(shown.length).toBe(3);
      for (const span of shown) {
        const b = (await span.boundingBox())!;
        expect(b.height, (await span.textContent()) ?? '').toBeLessThan(20);
        expect(b.x + b.width, (await span.textContent()) ?? '').toBeLessThanOrEqual(row.x + row.width + 0.5);
      }
      // a browser window narrower than the desktop's minimum: the top bar keeps every item on one line, inside it
      for (const width of [960, 800]) {
        await page.setViewportSize({ width, height: 600 });
        const items = [];
        for (const e of await page.locator('.topbar > *').all()) {
          const b = await e.boundingBox();
          if (b !== null && b.width > 0) items.push({ text: ((await e.textContent()) ?? '').trim().slice(0, 20), height: b.height, right: b.x + b.width });
        }
        expect(items.length, `${width}`).toBeGreaterThan(6);
        for (const it of items) {
          expect(it.height, `${width}: ${it.text}`).toBeLessThan(30);
          expect(it.right, `${width}: ${it.text}`).toBeLessThanOrEqual(width);
        }
        // ... and the ticket, a third of it, shows its order type and the bid and ask whole
        const ticket = page.getByTestId('ticket');
        expect((await ticket.locator('#t-type').boundingBox())!.width, `${width}: the order type`).toBeGreaterThan(70);
        for (const side of ['.quote-strip .bid', '.quote-strip .ask']) {
          const cut = await page.evaluate(`(() => { const e = document.querySelector('[data-testid=ticket] ${side}'); return e.scrollWidth > e.clientWidth; })()`);
          expect(cut, `${width}: ${side} cut`).toBe(false);
        }
      }
    } finally {
      await page.setViewportSize({ width: 1600, height: 900 });
    }
    const sym = symbols[0]!;
    inst = host.core.venue.view.instrument(sym)!;
    await pickSymbol(page, sym);
  });

  it('loads older candles when the chart is dragged back in time, and shows OHLC under the crosshair', async () => {
    const chart = page.getByTestId('chart');
    const bars = async () => Number(await chart.getAttribute('data-bars'));
    const first = await until(bars, (n) => n > 0, 10_000, 'the first bars');
    const box = (await chart.boundingBox())!;
    await until(
      async () => {
        await page.mouse.move(box.x + 100, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width - 100, box.y + box.height / 2, { steps: 5 });
        await page.mouse.up();
        return bars();
      },
      (n) => n > first,
      20_000,
      'older bars after dragging back',
    );
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 3);
    expect(await page.getByTestId('chart-legend').textContent()).toMatch(/O [\d,]+\.\d{2}H [\d,]+\.\d{2}L [\d,]+\.\d{2}C [\d,]+\.\d{2}V /);
  });

  let orderId = '';
  it('places a limit order: working in the blotter and a line on the chart; modify and cancel it', async () => {
    const ref = inst.previousClose;
    await setConfirm(page, false);
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 10), price: below(ref, 6), tif: 'day' });
    const t0 = Date.now();
    await submitTicket(page);
    const row = workingRows(page).first();
    await row.waitFor({ timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    orderId = (await row.getAttribute('data-order-id'))!;
    expect(await row.locator('[data-field=price]').textContent()).toBe(below(ref, 6));
    await until(() => chartLines(page), (l) => l.includes(`o${orderId}`), 10_000, 'the order line');

    await row.getByRole('button', { name: 'Modify' }).click();
    // a quantity of zero is refused beside the row, in words, before anything is sent: not an exchange rejection
    const rejectedTab = page.locator('[data-testid=blotter] button[data-tab=rejected]');
    const rejectedBefore = await rejectedTab.textContent();
    await page.getByLabel('New quantity').fill('0');
    await page.keyboard.press('Enter');
    const modifyError = page.getByTestId('modify-error');
    await modifyError.waitFor();
    expect(await modifyError.textContent()).toBe('Quantity must be above zero');
    expect(await modifyError.getAttribute('data-code')).toBeNull();
    await page.getByLabel('New price').fill('-1');
    await page.getByLabel('New quantity').fill(String(inst.lotSize * 10));
    await page.keyboard.press('Enter');
    await until(() => modifyError.textContent(), (t) => t === 'Limit price must be above zero', 5000, 'the price refused');
    expect(await rejectedTab.textContent()).toBe(rejectedBefore);
    expect(host.core.venue.order(Number(orderId))).toMatchObject({ status: 'working', qty: inst.lotSize * 10, price: Number(below(ref, 6).replace('.', '')) });
    await page.getByLabel('New price').fill(below(ref, 7));
    await page.keyboard.press('Enter');
    await until(() => workingRow(page, orderId).locator('[data-field=price]').textContent(), (t) => t === below(ref, 7), 10_000, 'the modified price');
    expect(host.core.venue.order(Number(orderId))).toMatchObject({ status: 'working', price: Number(below(ref, 7).replace('.', '')) });

    await workingRow(page, orderId).getByRole('button', { name: `Cancel order ${orderId}` }).click();
    await until(() => workingRow(page, orderId).count(), (n) => n === 0, 10_000, 'the cancel');
    await until(() => chartLines(page), (l) => !l.includes(`o${orderId}`), 5000, 'the line to go');
  });

  it('fills a market order: fill, position and P&L appear', async () => {
    await fillTicket(page, { side: 'buy', type: 'market', qty: String(inst.lotSize * 5), tif: 'ioc' });
    await submitTicket(page);
    await until(() => page.getByTestId('ticket-outcome').textContent(), (t) => /filled/.test(t ?? ''), 10_000, 'a fill');
    const pos = page.locator(`[data-testid=positions] tr[data-symbol="${inst.symbol}"]`);
    await pos.waitFor({ timeout: 10_000 });
    expect(await pos.locator('[data-field=qty]').textContent()).toBe(`+${inst.lotSize * 5}`);
    expect(await pos.locator('[data-field=unrealized]').textContent()).toMatch(/^[+-]?[\d,]+\.\d{2}$/);
    await tab(page, 'fills');
    expect(await page.locator('[data-testid=fill-row]').count()).toBeGreaterThan(0);
    await tab(page, 'working');
    expect(await page.locator('[data-testid=account] [data-field=equity]').textContent()).toMatch(/^[\d,]+\.\d{2}$/);
  });

  it("shows the same unrealized P&L in the Account panel as the Positions panel's rows add up to, at every moment", async () => {
    // both are read in one go (one task): the figures on screen at that moment
    const read = () =>
      page.evaluate(`(() => {
        const minor = (t) => Number((t ?? '').replace(/[+,.]/g, ''));
        const rows = [...document.querySelectorAll('[data-testid=positions] [data-field=unrealized]')].map((e) => minor(e.textContent));
        const account = minor(document.querySelector('[data-testid=account] [data-field=unrealized]')?.textContent);
        return { rows: rows.reduce((a, b) => a + b, 0), account, n: rows.length };
      })()`) as Promise<{ rows: number; account: number; n: number }>;
    for (let i = 0; i < 60; i++) {
      const r = await read();
      expect(r.n).toBeGreaterThan(0);
      expect(r.account, `sample ${i}`).toBe(r.rows);
      await new Promise((res) => setTimeout(res, 40));
    }
  });

  it('refuses an order beyond buying power before sending, with the INSUFFICIENT_FUNDS reason', async () => {
    const before = await workingRows(page).count();
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 1_000_000), price: below(inst.previousClose, 5) });
    await submitTicket(page);
    const funds = page.getByTestId('funds-error');
    await funds.waitFor();
    expect(await funds.getAttribute('data-code')).toBe('INSUFFICIENT_FUNDS');
    expect(await funds.textContent()).toMatch(/^Not enough buying power for this order\./);
    expect(await workingRows(page).count()).toBe(before);
    // the send button shows the quantity as a number (grouped), never the text as typed
    expect(await page.getByTestId('ticket-submit').textContent()).toBe(`Buy ${formatQty(inst.lotSize * 1_000_000)} ${inst.symbol} LMT @ ${below(inst.previousClose, 5)}`);
    // while the limit price is not valid: no estimate, no funds error, no price on the button
    await page.fill('#t-price', '-1');
    await until(() => page.locator('[data-testid=ticket] .field-error').allTextContents(), (e) => e.includes('Limit price must be above zero'), 5000, 'the price refused');
    expect(await funds.count()).toBe(0);
    expect(await page.getByTestId('estimate').locator('dd').first().textContent()).toBe('—');
    expect(await page.getByTestId('ticket-submit').textContent()).toBe(`Buy ${formatQty(inst.lotSize * 1_000_000)} ${inst.symbol} LMT`);
  });

  it('rides through a restart of the host: reconnecting, then the same orders and position', async () => {
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 3), price: below(inst.previousClose, 8), tif: 'gtc' });
    await submitTicket(page);
    await until(() => workingRows(page).count(), (n) => n >= 1, 10_000, 'a working order');
    const before = await attrAll(workingRows(page), 'data-order-id');
    const port = host.port;
    await host.close();
    await page.locator('[data-testid=connection][data-state=reconnecting]').waitFor({ timeout: 10_000 });
    await page.getByTestId('stale-banner').waitFor();
    host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: rendererBuild(), credentials: new MemoryStore(), port, simStart: SIM_START });
    await waitConnected(page, 20_000);
    await until(async () => (await attrAll(workingRows(page), 'data-order-id')).sort().join(), (v) => v === [...before].sort().join(), 10_000, 'the same working orders');
    expect(await page.locator(`[data-testid=positions] tr[data-symbol="${inst.symbol}"] [data-field=qty]`).textContent()).toBe(`+${inst.lotSize * 5}`);
  });

  it('arranges panels by dragging, and keeps the layout and theme across a reload', async () => {
    const columns = async () =>
      page.evaluate(`[...document.querySelectorAll('.ws-col')].map((c) => [...c.querySelectorAll(':scope > .panel')].map((p) => p.dataset.panel).join(','))`) as Promise<string[]>;
    expect(await columns()).toEqual(['watchlist,tape', 'chart,blotter,positions', 'ticket,account']);
    // Drag Time & sales by its title onto the right edge of the ticket: a new column at the far right.
    const target = page.locator('[data-panel=ticket]');
    const box = (await target.boundingBox())!;
    await page.locator('[data-panel=tape] .panel-head').dragTo(target, { targetPosition: { x: box.width - 10, y: box.height / 2 } });
    await until(columns, (c) => c.join('|') === 'watchlist|chart,blotter,positions|ticket,account|tape', 5000, 'the new column');
    // Close the account panel, switch theme, reload: all of it stays.
    await page.getByRole('button', { name: 'Close Account' }).click();
    await page.getByTestId('theme-toggle').click();
    await page.reload();
    await waitConnected(page);
    expect(await columns()).toEqual(['watchlist', 'chart,blotter,positions', 'ticket', 'tape']);
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.getByRole('button', { name: 'Reset layout' }).click();
    expect(await columns()).toEqual(['watchlist,tape', 'chart,blotter,positions', 'ticket,account']);
    expect(realProblems(w.problems)).toEqual([]);
  });

  it("the default layout on a laptop's 1280 x 720 cuts nothing: change %, the buying-power message above Buy, Cancel, the account's last row", async () => {
    // a working stop order (its status is the blotter's longest), and an order beyond buying power in the ticket
    await fillTicket(page, { side: 'sell', type: 'stop', qty: String(inst.lotSize), tif: 'gtc' });
    await page.fill('#t-stop', below(inst.previousClose, 20));
    await submitTicket(page);
    await until(() => page.locator('[data-testid=working-row]', { hasText: 'Waiting for trigger' }).count(), (n) => n >= 1, 10_000, 'a working stop order');
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 1_000_000), price: below(inst.previousClose, 5), tif: 'day' });
    await submitTicket(page);
    await page.getByTestId('funds-error').waitFor();
    await page.setViewportSize({ width: 1280, height: 720 });
    try {
      await page.waitForTimeout(300);
      // (each finding on its own: one cut does not hide the others)
      // every number in the watchlist whole (its rows scroll: the scroll bar takes its share of the width)
      const cut = await page.evaluate(
        `[...document.querySelectorAll('[data-testid=watchlist] td[data-field]')].filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth).map((e) => e.dataset.field + ' ' + e.textContent + ' ' + e.scrollWidth + '>' + e.clientWidth)`,
      );
      expect.soft(cut).toEqual([]);
      // ... and the change % column holds a rise to two whole digits ("+99.99%"), whatever the market shows now
      const room = (await page.evaluate(`(() => {
        const td = document.querySelector('[data-testid=watchlist] td[data-field=change]');
        const s = document.createElement('span');
        s.textContent = '+99.99%';
        s.style.cssText = 'position: absolute; visibility: hidden; white-space: nowrap';
        td.appendChild(s);
        const w = s.getBoundingClientRect().width;
        s.remove();
        const cs = getComputedStyle(td);
        return { need: w, have: td.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) };
      })()`)) as { need: number; have: number };
      expect.soft(room.have, `the change % column: ${JSON.stringify(room)}`).toBeGreaterThanOrEqual(room.need);
      // the ticket's form scrolls under Buy; the reason Buy does nothing stays in view above it
      const funds = await box(page.getByTestId('funds-error'));
      const send = await box(page.getByTestId('ticket-submit'));
      expect.soft(overlap(funds, send), `message ${JSON.stringify(funds)}, button ${JSON.stringify(send)}`).toBe(false);
      expect.soft(inside(funds, await box(page.locator('[data-panel=ticket] .panel-body')))).toBe(true);
      // Cancel of every working order inside the blotter's visible box
      const wrap = await box(page.locator('[data-panel=blotter] .table-wrap'));
      for (const cancel of await page.locator('[data-testid=blotter] [data-testid=working-row] button[aria-label^="Cancel order"]').all()) {
        expect.soft(inside(await box(cancel), wrap), `${await cancel.getAttribute('aria-label')} ${JSON.stringify(await box(cancel))} in ${JSON.stringify(wrap)}`).toBe(true);
      }
      // the account's last row (short selling) in view without scrolling
      const account = await box(page.locator('[data-panel=account] .panel-body'));
      const last = page.locator('[data-testid=account] dd').last();
      expect.soft(inside(await box(last), account), 'the last row of the account').toBe(true);
    } finally {
      await page.setViewportSize({ width: 1600, height: 900 });
    }
  });

  it("at 1280 x 720 a blotter with more orders than fit scrolls inside its panel, and a refused modify's reason comes into view", async () => {
    // more working orders than the short blotter shows (the earlier tests left a stop and a GTC limit)
    for (const pct of [11, 12, 13, 14, 15, 16]) {
      const n = await workingRows(page).count();
      await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize), price: below(inst.previousClose, pct), tif: 'day' });
      await submitTicket(page);
      await until(() => workingRows(page).count(), (c) => c === n + 1, 10_000, 'the order in the blotter');
    }
    await page.setViewportSize({ width: 1280, height: 720 });
    try {
      await page.waitForTimeout(300);
      const wrapLoc = page.locator('[data-panel=blotter] .table-wrap');
      const sizes = (await page.evaluate(`(() => {
        const e = document.querySelector('[data-panel=blotter] .table-wrap');
        return { scroll: e.scrollHeight, client: e.clientHeight };
      })()`)) as { scroll: number; client: number };
      // the rows that do not fit are scrolled to, not cut off below the panel
      expect.soft(sizes.scroll, `the table area: ${JSON.stringify(sizes)}`).toBeGreaterThan(sizes.client);
      const panel = await box(page.locator('[data-panel=blotter] .panel-body'));
      expect.soft(inside(await box(wrapLoc), panel), `the table area ${JSON.stringify(await box(wrapLoc))} in the panel ${JSON.stringify(panel)}`).toBe(true);
      // the lowest order modified to nothing: why it was not sent shows without scrolling
      const last = workingRows(page).last();
      await last.getByRole('button', { name: 'Modify' }).click();
      await page.getByLabel('New quantity').fill('0');
      await page.keyboard.press('Enter');
      const note = page.getByTestId('modify-error');
      await note.waitFor();
      await page.waitForTimeout(200);
      const wrap = await box(wrapLoc);
      expect.soft(inside(await box(note), wrap), `the reason ${JSON.stringify(await box(note))} in the table area ${JSON.stringify(wrap)}`).toBe(true);
      expect.soft(inside(await box(note), await box(page.locator('[data-panel=blotter] .panel-body'))), 'the reason in the panel').toBe(true);
      await page.keyboard.press('Escape');
      await page.getByTestId('modify-row').waitFor({ state: 'detached' });
    } finally {
      await page.setViewportSize({ width: 1600, height: 900 });
    }
  });

  it('keeps every panel live when another panel on the same feeds goes: a depth ladder closed, the Fills tab left', async () => {
    await pickSymbol(page, inst.symbol);
    // the ladder follows orders, fills and instruments with the very handlers the blotter and the chart use
    await page.selectOption('select[aria-label="Add panel"]', 'ladder');
    const ladder = page.locator('[data-panel=ladder]');
    await ladder.getByTestId('depth-ladder').waitFor();
    // beside it at 1600 x 900 nothing is cut: the positions' last column (the market value goes first) and the
    // ladder's title (its link chip shows its dot only)
    await page.waitForTimeout(200);
    const edges = (await page.evaluate(`(() => {
      const r = (s) => document.querySelector(s).getBoundingClientRect();
      const title = document.querySelector('[data-panel=ladder] .panel-title');
      return { realized: r('[data-testid=positions] th:last-child').right, panel: r('[data-panel=positions] .panel-body').right, titleCut: title.scrollWidth > title.clientWidth };
    })()`)) as { realized: number; panel: number; titleCut: boolean };
    expect(edges.realized).toBeLessThanOrEqual(edges.panel + 0.5);
    expect(edges.titleCut).toBe(false);
    await page.getByRole('button', { name: 'Close Depth ladder' }).click();
    await until(() => ladder.count(), (n) => n === 0, 5000, 'the ladder closed');
    // the Fills tab's table shares the fills feed with the tab's count
    await tab(page, 'fills');
    await tab(page, 'working');
    // longer than a stream is kept for a panel that comes back
    await new Promise((r) => setTimeout(r, 1500));

    const ids: string[] = [];
    const earlier = await attrAll(workingRows(page), 'data-order-id'); // (an earlier test's stop order works on)
    for (const pct of [9, 10]) {
      const n = await workingRows(page).count();
      await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize), price: below(inst.previousClose, pct), tif: 'day' });
      await submitTicket(page);
      await until(() => workingRows(page).count(), (c) => c === n + 1, 10_000, 'the order in the blotter');
      ids.push(...(await attrAll(workingRows(page), 'data-order-id')).filter((id) => !ids.includes(id) && !earlier.includes(id)));
    }
    await until(() => chartLines(page), (l) => ids.every((id) => l.includes(`o${id}`)), 10_000, 'the order lines');
    const openOrders = page.locator('[data-testid=account] [data-field=openOrders]');
    await until(() => openOrders.textContent(), (t) => Number(t?.split(' ')[0]) >= 2, 10_000, 'the open orders counted');

    await page.locator('[data-testid=blotter]').getByRole('button', { name: 'Cancel all' }).click();
    await until(() => workingRows(page).count(), (n) => n === 0, 10_000, 'the blotter emptied by Cancel all');
    expect(host.core.venue.orders({ accountId: LOCAL_ACCOUNT_ID, status: 'open' }).items.length).toBe(0);
    expect(await page.locator('[data-testid=blotter] button[data-tab=working]').textContent()).toBe('Working (0)');
    await until(() => chartLines(page), (l) => !l.some((x) => /^o\d+$/.test(x)), 10_000, 'the order lines gone');
    await until(() => openOrders.textContent(), (t) => t?.split(' ')[0] === '0', 10_000, 'no open orders in the account');

    // a fill still reaches the Fills tab's count
    const fillsTab = page.locator('[data-testid=blotter] button[data-tab=fills]');
    const fills = async () => Number(/\((\d+)\)/.exec((await fillsTab.textContent()) ?? '')?.[1]);
    const before = await fills();
    await fillTicket(page, { side: 'buy', type: 'market', qty: String(inst.lotSize), tif: 'ioc' });
    await submitTicket(page);
    await until(() => page.getByTestId('ticket-outcome').textContent(), (t) => /filled/.test(t ?? ''), 10_000, 'a fill');
    expect(await page.getByTestId('ticket-outcome').textContent()).toContain(inst.symbol);
    await until(fills, (n) => n > before, 10_000, 'the Fills count to grow');
    expect(realProblems(w.problems)).toEqual([]);
  });

  it("tells the trader when the exchange cancels a resting order itself: a GTC left outside the new band by a session's end", async () => {
    // the market holds still, so the price the new band centres on is the one read here
    host.core.market.pause();
    try {
      const v = host.core.venue.view;
      // an order at the edge of today's band that the band of the next session (centred on the last price) leaves out
      let pick: { symbol: string; side: 'buy' | 'sell'; price: number; lot: number } | undefined;
      for (const i of v.instruments()) {
        const last = v.quote(i.symbol)?.last;
        if (last === null || last === undefined || i.status !== 'open') continue;
        const low = Math.max(i.tickSize, Math.ceil((last * (10_000 - i.bandBps)) / 10_000 / i.tickSize) * i.tickSize);
        const high = Math.floor((last * (10_000 + i.bandBps)) / 10_000 / i.tickSize) * i.tickSize;
        if (low > i.bandLow) pick = { symbol: i.symbol, side: 'buy', price: i.bandLow, lot: i.lotSize };
        else if (high < i.bandHigh) pick = { symbol: i.symbol, side: 'sell', price: i.bandHigh, lot: i.lotSize };
        if (pick !== undefined) break;
      }
      expect(pick, 'a symbol whose price moved since the close').toBeDefined();
      const { symbol, side, price, lot } = pick!;
      await pickSymbol(page, symbol);
      await fillTicket(page, { side, type: 'limit', qty: String(lot), price: priceInput(price), tif: 'gtc' });
      await submitTicket(page);
      const outcome = page.getByTestId('ticket-outcome');
      await until(() => outcome.textContent(), (t) => t?.startsWith(`${symbol} order #`) === true && t.endsWith(' working'), 10_000, 'the order working');
      const orderId = /#(\d+)/.exec((await outcome.textContent())!)![1]!;

      await host.core.venue.submit({ type: 'EndSession' });
      expect(host.core.venue.order(Number(orderId))).toMatchObject({ status: 'canceled', cancelReason: 'price_band' });
      const told = page.getByTestId('toasts').locator('.pw-toast', { hasText: `(order #${orderId})` });
      await told.waitFor({ timeout: 10_000 });
      expect(await told.textContent()).toBe(
        `${side === 'buy' ? 'Buy' : 'Sell'} ${formatQty(lot)} ${symbol} @ ${formatPrice(price)} (order #${orderId}) — Canceled: outside the new band`,
      );
      expect(await told.getAttribute('class')).toContain('error');
      // the ticket's line follows the order: no longer "working"
      await until(() => outcome.textContent(), (t) => t === `${symbol} order #${orderId} — Canceled: outside the new band`, 5000, 'the ticket line');
      expect(await outcome.getAttribute('data-status')).toBe('canceled');
      expect(realProblems(w.problems)).toEqual([]);
    } finally {
      host.core.market.resume();
    }
  });
});
