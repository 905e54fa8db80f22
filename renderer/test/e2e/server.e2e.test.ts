/**
 * The workstation in a plain browser against the exchange server (firm mode): sign-in with 2FA, live
 * quotes, the order life cycle through the ticket and the blotter (place, see it on the chart, modify,
 * cancel, fill, position and P&L), a refusal for lack of buying power in words, and a server restart the
 * UI rides through (reconnecting, then the same orders). Real server, real SQLite, real Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, openPage, realProblems, type WatchedPage } from './browser.js';
import { rendererBuild } from './build.js';
import { MarketBot, PASSWORD, TestExchange, type Tokens } from './exchange.js';
import { attrAll, chartLines, fillTicket, pickSymbol, setConfirm, signIn, submitTicket, tab, until, waitConnected, watchCell, workingRow, workingRows } from './ui.js';

let ex: TestExchange;
let bot: MarketBot;
let browser: Browser;
let alice: Tokens;
let mm: Tokens;
let taker: Tokens;
let totpFor: (ms: number) => string;
let w: WatchedPage;
let page: Page;

async function startBot(): Promise<void> {
  bot = new MarketBot(await ex.client(mm.accessToken), await ex.client(taker.accessToken));
  await bot.quoteAll();
  bot.start(200);
}

beforeAll(async () => {
  const dir = rendererBuild();
  ex = new TestExchange(dir);
  await ex.start();
  await ex.setup();
  alice = await ex.trader('alice', 10_000_000); // $100,000.00
  mm = await ex.trader('maker', 1_000_000_000);
  taker = await ex.trader('taker', 1_000_000_000);
  const bob = await ex.trader('bob', 1_000_000);
  totpFor = await ex.enableTotp(bob);
  await startBot();
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await browser?.close();
  await ex?.dispose();
});

describe('firm server in a browser', () => {
  it('serves /config.json saying it is a server, and the app under a strict CSP', async () => {
    const r = await fetch(`${ex.url}/config.json`);
    expect(await r.json()).toEqual({ kind: 'server', wsPath: '/ws', name: 'Desk Test Exchange' });
    const html = await (await fetch(`${ex.url}/`)).text();
    expect(html).toContain('http-equiv="Content-Security-Policy"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts
  });

  it('signs in with a two-factor code, explaining a wrong password and a wrong code', async () => {
    const b = await openPage(browser, `${ex.url}/`);
    const p = b.page;
    await signIn(p, 'bob', 'not the password');
    const err = p.getByTestId('login-error');
    await until(() => err.getAttribute('data-code'), (c) => c === 'INVALID_CREDENTIALS', 10_000, 'wrong-password error');
    expect(await err.textContent()).toBe('Wrong user name or password.');

    await p.fill('#login-pass', PASSWORD);
    await p.click('form.login button[type=submit]');
    await p.locator('#login-code').waitFor({ timeout: 10_000 }); // TWO_FACTOR_REQUIRED asks for the code
    const wrong = totpFor(Date.now()) === '000000' ? '111111' : '000000';
    await p.fill('#login-code', wrong);
    await p.click('form.login button[type=submit]');
    await until(() => err.getAttribute('data-code'), (c) => c === 'INVALID_TWO_FACTOR_CODE', 10_000, 'wrong-code error');
    expect(await err.textContent()).toMatch(/two-factor code is wrong/);

    await p.fill('#login-code', totpFor(Date.now()));
    await p.click('form.login button[type=submit]');
    await waitConnected(p);
    expect(await p.locator('.topbar .user').textContent()).toBe('bob');
    expect(await p.locator('.topbar [data-testid=mode-badge]').textContent()).toBe('FIRM · Desk Test Exchange');
    expect(realProblems(b.problems)).toEqual([]);
    await b.context.close();
  });

  it('says once, in words, how long to wait when wrong passwords have locked the sign-in', async () => {
    await ex.trader('dave', 0);
    const b = await openPage(browser, `${ex.url}/`);
    const p = b.page;
    const err = p.getByTestId('login-error');
    // five wrong passwords lock the name for a while (a wrong one clears the password field)
    for (let i = 0; i < 5; i++) {
      await signIn(p, 'dave', `wrong password ${i}`);
      await until(() => p.inputValue('#login-pass'), (v) => v === '', 10_000, `wrong password ${i} refused`);
    }
    await signIn(p, 'dave', 'wrong password again');
    await until(() => err.getAttribute('data-code'), (c) => c === 'RATE_LIMITED', 10_000, 'the sign-in throttled');
    expect(await err.textContent()).toMatch(/^Too many attempts\. Try again in \d+ seconds?\.$/);
    expect(realProblems(b.problems)).toEqual([]);
    await b.context.close();
  });

  it('has a new user replace the temporary password at first sign-in, explaining the policy', async () => {
    await ex.newUser('carol', 'temporary carol password', 1_000_000);
    const b = await openPage(browser, `${ex.url}/`);
    const p = b.page;
    await signIn(p, 'carol', 'temporary carol password');
    const form = p.getByTestId('change-password');
    await form.waitFor({ timeout: 10_000 });
    await p.fill('#cp-new', 'short');
    await p.fill('#cp-again', 'short');
    await p.click('form.login button[type=submit]');
    const err = p.getByTestId('login-error');
    await until(() => err.getAttribute('data-code'), (c) => c === 'WEAK_PASSWORD', 10_000, 'the policy refusal');
    expect(await err.textContent()).toMatch(/^The password does not meet the server's password policy\. The password must .+\.$/);
    await p.fill('#cp-new', 'carols own long passphrase 7');
    await p.fill('#cp-again', 'carols own long passphrase 7');
    await p.click('form.login button[type=submit]');
    await waitConnected(p);
    await until(() => p.locator('[data-testid=account] [data-field=cash]').textContent(), (t) => t === '10,000.00', 10_000, "carol's account");
    const l = await fetch(`${ex.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: 'carols own long passphrase 7' }) });
    expect(((await l.json()) as { user: { mustChangePassword: boolean } }).user.mustChangePassword).toBe(false);
    // Sign out and back in: the streams open afresh (quotes arrive again).
    await p.getByRole('button', { name: 'Sign out' }).click();
    await signIn(p, 'carol', 'carols own long passphrase 7');
    await waitConnected(p);
    await watchCell(p, 'ACME', 'bid', 2);
    expect(realProblems(b.problems)).toEqual([]);
    await b.context.close();
  });

  it('streams quotes into the watchlist', async () => {
    w = await openPage(browser, `${ex.url}/`);
    page = w.page;
    await signIn(page, 'alice', PASSWORD);
    await waitConnected(page);
    await page.locator('[data-testid=watchlist] tr[data-symbol=ACME]').waitFor();
    const bids = await watchCell(page, 'ACME', 'bid', 3);
    expect(bids.every((b) => /^\d{2,3}\.\d{2}$/.test(b) || b === '—')).toBe(true);
    await watchCell(page, 'GLOBEX', 'last', 2);
    // every order-entry surface says where orders go
    expect(await page.locator('[data-testid=ticket] [data-testid=mode-badge]').textContent()).toBe('FIRM · Desk Test Exchange');
    expect(await page.locator('[data-panel=blotter] [data-testid=mode-badge]').count()).toBe(1);
  });

  /** Whether everything shown inside an element ends within it (text cut with "…" does not). */
  const fits = (l: ReturnType<Page['locator']>) =>
    l.evaluate((el) => {
      type R = { right: number };
      const e = el as unknown as { getBoundingClientRect(): R; ownerDocument: { createRange(): { selectNodeContents(n: unknown): void; getBoundingClientRect(): R } } };
      const r = e.ownerDocument.createRange();
      r.selectNodeContents(el);
      const style = el as unknown as { clientWidth: number; scrollWidth: number };
      return r.getBoundingClientRect().right <= e.getBoundingClientRect().right + 0.5 && style.scrollWidth <= style.clientWidth;
    });

  it("on a laptop's 1280 x 720 nothing is cut (the ticket's Buy and Sell, the chart's toolbar, a six-letter symbol), nor at 1024 x 700 (prices, Cancel)", async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    try {
      await pickSymbol(page, 'GLOBEX');
      const box = async (l: ReturnType<Page['locator']>) => (await l.boundingBox())!;
      const inside = (a: { x: number; width: number }, b: { x: number; width: number }) => a.x >= b.x - 0.5 && a.x + a.width <= b.x + b.width + 0.5;
      // the side switch keeps both buttons whole beside the firm's name, which gives way ("…") instead
      const side = page.getByRole('radiogroup', { name: 'Side' });
      for (const name of ['Buy', 'Sell']) {
        const b = await box(side.getByRole('radio', { name }));
        expect(b.width, name).toBeGreaterThan(40);
        expect(inside(b, await box(side)), name).toBe(true);
      }
      const badge = page.locator('[data-testid=ticket] [data-testid=mode-badge]');
      expect(inside(await box(badge), await box(page.getByTestId('ticket')))).toBe(true);
      // everything in the chart's toolbar is inside it (on a second line if need be), and every timeframe and
      // indicator button whole inside its group
      const bar = page.locator('.pw-chart-panel > .toolbar');
      for (const item of await bar.locator('> *').all()) expect(inside(await box(item), await box(bar)), (await item.textContent()) ?? '').toBe(true);
      for (const group of await bar.locator('.seg').all()) {
        const g = await box(group);
        for (const b of await group.locator('button').all()) expect(inside(await box(b), g), (await b.textContent()) ?? '').toBe(true);
      }
      // the watchlist shows GLOBEX whole, the remove button beside it on hover
      const cell = page.locator('[data-testid=watchlist] tr[data-symbol=GLOBEX] td.sym');
      await cell.hover();
      const x = await box(cell.getByRole('button', { name: 'Remove GLOBEX' }));
      const text = await cell.evaluate((td) => {
        const r = (td as unknown as { ownerDocument: { createRange(): { selectNodeContents(n: unknown): void; getBoundingClientRect(): { right: number } } }; firstChild: unknown }).ownerDocument.createRange();
        r.selectNodeContents((td as unknown as { firstChild: unknown }).firstChild);
        return r.getBoundingClientRect().right;
      });
      expect(text).toBeLessThanOrEqual(x.x + 0.5);

      // narrower still (1024 x 700): the watchlist drops bid and ask, the ticket the sizes, not the prices
      await page.setViewportSize({ width: 1024, height: 700 });
      const row = page.locator('[data-testid=watchlist] tr[data-symbol=GLOBEX]');
      await until(() => row.locator('td[data-field=bid]').isVisible(), (v) => !v, 5000, "the watchlist's bid column to go");
      for (const field of ['last', 'change']) expect(await fits(row.locator(`td[data-field=${field}]`)), field).toBe(true);
      for (const side of ['bid', 'ask']) expect(await fits(page.getByTestId('ticket').getByTitle(`Use ${side} as limit price`)), side).toBe(true);
      // the ticket's form is taller than its panel here: it scrolls, and the button that sends stays in view
      const send = await box(page.getByTestId('ticket-submit'));
      const ticketPanel = (await page.locator('[data-panel=ticket]').boundingBox())!;
      expect(send.y + send.height, 'the send button in view').toBeLessThanOrEqual(ticketPanel.y + ticketPanel.height + 0.5);
      expect(await page.getByTestId('ticket').evaluate((el) => (el as unknown as { scrollHeight: number; clientHeight: number }).scrollHeight > (el as unknown as { clientHeight: number }).clientHeight)).toBe(true);
      // the blotter keeps a working order's Modify and Cancel in view (it drops time, filled and TIF), and Cancel works
      const { orderId: id } = await ex.rpc<{ orderId: number }>('order.place', { symbol: 'GLOBEX', side: 'buy', orderType: 'limit', qty: 1, price: 4_600, tif: 'day' }, alice.accessToken);
      const wrow = workingRow(page, id);
      await wrow.waitFor({ timeout: 10_000 });
      const cancel = wrow.getByRole('button', { name: `Cancel order ${id}` });
      expect(inside(await box(cancel), await box(page.getByTestId('blotter')))).toBe(true);
      expect(inside(await box(wrow.getByRole('button', { name: 'Modify' })), await box(page.getByTestId('blotter')))).toBe(true);
      await cancel.click();
      await until(() => wrow.count(), (n) => n === 0, 10_000, 'the order to leave the working tab');
      expect(ex.app!.venue.order(id)?.status).toBe('canceled');
    } finally {
      await page.setViewportSize({ width: 1600, height: 900 });
    }
  });

  it("a depth ladder added on a laptop's screen gets a column of its own: its height, the watchlist and the ticket keep their width, no header cut", async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    try {
      const width = async (kind: string) => (await page.locator(`[data-panel=${kind}]`).boundingBox())!.width;
      const before = { watchlist: await width('watchlist'), ticket: await width('ticket'), chart: await width('chart') };
      await page.selectOption('select[aria-label="Add panel"]', 'ladder');
      const ladder = page.locator('[data-panel=ladder]');
      await ladder.getByTestId('depth-ladder').waitFor({ timeout: 10_000 });
      // full height (in the watchlist's column it showed four price rows), 22% of the width, out of the chart's column
      await until(() => ladder.locator('.pw-ladder-row:not(.pw-ladder-head)').count(), (n) => n >= 20, 5000, 'twenty price rows or more');
      expect(Math.abs((await width('watchlist')) - before.watchlist)).toBeLessThan(2);
      expect(Math.abs((await width('ticket')) - before.ticket)).toBeLessThan(2);
      expect(await width('ladder')).toBeGreaterThan(250);
      expect(await width('chart')).toBeLessThan(before.chart - 200);
      // every column header whole (Volume says Vol when narrow), the sizes inside the bar
      for (const [w, h] of [[1280, 720], [1024, 700]] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.waitForTimeout(100);
        for (const head of await ladder.getByRole('columnheader').all()) expect(await fits(head), `${w}: ${(await head.textContent()) ?? ''}`).toBe(true);
        const bar = ladder.locator('.pw-ladder-bar');
        for (const b of await bar.getByRole('group', { name: 'Order size' }).getByRole('button').all()) {
          const bb = (await b.boundingBox())!;
          const r = (await bar.boundingBox())!;
          expect(bb.x + bb.width, `${w}: size ${(await b.textContent()) ?? ''}`).toBeLessThanOrEqual(r.x + r.width + 0.5);
        }
      }
      await page.getByRole('button', { name: 'Close Depth ladder' }).click();
      await until(() => ladder.count(), (n) => n === 0, 5000, 'the ladder closed');
    } finally {
      await page.setViewportSize({ width: 1600, height: 900 });
    }
  });

  let orderId = '';
  it('places a limit order from the keyboard: it shows in the blotter and as a line on the chart', async () => {
    await pickSymbol(page, 'ACME');
    await setConfirm(page, true);
    await fillTicket(page, { side: 'buy', type: 'limit', qty: '100', price: '95.00', tif: 'day' });
    await submitTicket(page);
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('.confirm-summary').textContent()).toBe('Buy 100 ACME LMT @ 95.00');
    expect(await dialog.getByTestId('mode-badge').textContent()).toBe('FIRM · Desk Test Exchange');
    await page.keyboard.press('Enter'); // Send has the focus
    const row = workingRows(page).first();
    await row.waitFor({ timeout: 10_000 });
    orderId = (await row.getAttribute('data-order-id')) ?? '';
    expect(orderId).not.toBe('');
    expect(await row.locator('[data-field=price]').textContent()).toBe('95.00');
    expect(await row.locator('[data-field=qty]').textContent()).toBe('100');
    await until(() => chartLines(page), (l) => l.includes(`o${orderId}`), 10_000, 'the order line on the chart');
  });

  it('modifies the order in the blotter (Enter sends) and the venue has the new price and size', async () => {
    await workingRow(page, orderId).getByRole('button', { name: 'Modify' }).click();
    await page.getByLabel('New quantity').fill('200');
    await page.getByLabel('New price').fill('95.50');
    await page.keyboard.press('Enter');
    const row = workingRow(page, orderId);
    await until(() => row.locator('[data-field=price]').textContent(), (t) => t === '95.50', 10_000, 'the new price');
    expect(await row.locator('[data-field=qty]').textContent()).toBe('200');
    const rec = await ex.rpc<{ price: number; qty: number; status: string }>('order.get', { orderId: Number(orderId) }, alice.accessToken);
    expect(rec).toMatchObject({ price: 9550, qty: 200, status: 'working' });
    expect(await chartLines(page)).toContain(`o${orderId}`);
  });

  it('cancels it: gone from working orders and from the chart, canceled in the history', async () => {
    await workingRow(page, orderId).getByRole('button', { name: `Cancel order ${orderId}` }).click();
    await until(() => workingRow(page, orderId).count(), (n) => n === 0, 10_000, 'the row to leave the working tab');
    await until(() => chartLines(page), (l) => !l.includes(`o${orderId}`), 5000, 'the chart line to go');
    await tab(page, 'all');
    const hist = page.locator(`[data-testid=blotter] tr[data-order-id="${orderId}"]`);
    expect(await hist.getAttribute('data-status')).toBe('canceled');
    expect(await hist.textContent()).toContain('Canceled');
    await tab(page, 'working');
  });

  it('fills a marketable order: the fill, the position with its average cost and live P&L appear', async () => {
    await setConfirm(page, false);
    await fillTicket(page, { side: 'buy', type: 'market', qty: '100', tif: 'ioc' });
    await submitTicket(page);
    const outcome = page.getByTestId('ticket-outcome');
    await until(() => outcome.textContent(), (t) => /filled 100/.test(t ?? ''), 10_000, 'the fill in the ticket');
    const pos = page.locator('[data-testid=positions] tr[data-symbol=ACME]');
    await pos.waitFor({ timeout: 10_000 });
    expect(await pos.locator('[data-field=qty]').textContent()).toBe('+100');
    const avg = (await pos.locator('[data-field=avg]').textContent()) ?? '';
    expect(avg).toMatch(/^\d+\.\d{2,4}$/);
    const venue = await ex.rpc<{ positions: { symbol: string; qty: number; cost: number }[] }>('account.get', {}, alice.accessToken);
    const p = venue.positions.find((x) => x.symbol === 'ACME')!;
    expect(p.qty).toBe(100);
    // The P&L shown is qty x last - cost, to the cent, and follows the market.
    const check = async () => {
      const last = (await pos.locator('[data-field=last]').textContent())!.replace(/,/g, '');
      const shown = (await pos.locator('[data-field=unrealized]').textContent())!.replace(/,/g, '');
      const lastMinor = Number(last.replace('.', ''));
      const expected = 100 * lastMinor - p.cost;
      const shownMinor = Number(shown.replace('+', '').replace('.', ''));
      return { expected, shownMinor, last };
    };
    const seen = new Set<string>();
    await until(
      async () => {
        const c = await check();
        if (c.shownMinor === c.expected) seen.add(c.last);
        return seen.size;
      },
      (n) => n >= 2,
      15_000,
      'the P&L to follow two different last prices',
    );
    await tab(page, 'fills');
    expect(await page.locator('[data-testid=blotter] [data-testid=fill-row]').count()).toBeGreaterThan(0);
    await until(async () => Number(await page.getByTestId('chart').getAttribute('data-markers')), (n) => n >= 1, 5000, 'a fill marker');
    expect(await chartLines(page)).toContain('pos');
    await tab(page, 'working');
  });

  it('refuses an order beyond buying power with INSUFFICIENT_FUNDS in words, in the ticket and from the venue', async () => {
    // The ticket knows the buying power and refuses before sending.
    await fillTicket(page, { side: 'buy', type: 'limit', qty: '5000', price: '95.00', tif: 'day' });
    await submitTicket(page);
    const funds = page.getByTestId('funds-error');
    await funds.waitFor();
    expect(await funds.getAttribute('data-code')).toBe('INSUFFICIENT_FUNDS');
    expect(await funds.textContent()).toMatch(/^Not enough buying power for this order\. Needs 475,000\.00, available [\d,]+\.\d{2}\.$/);
    // The venue refuses too: grow a working order past the buying power from the blotter.
    await fillTicket(page, { qty: '100', price: '94.00' });
    await submitTicket(page);
    const row = page.locator('[data-testid=blotter] [data-testid=working-row]').first();
    await row.waitFor({ timeout: 10_000 });
    const id = (await row.getAttribute('data-order-id'))!;
    await row.getByRole('button', { name: 'Modify' }).click();
    await page.getByLabel('New quantity').fill('100000');
    await page.keyboard.press('Enter');
    const err = page.getByTestId('modify-error');
    await err.waitFor({ timeout: 10_000 });
    // the venue's own reason, its amounts formatted, without the code
    const venueSays = /^Not enough buying power: needs [\d,]+\.\d{2}, available [\d,]+\.\d{2}\.$/;
    expect(await err.textContent()).toMatch(venueSays);
    expect(await err.getAttribute('data-code')).toBe('INSUFFICIENT_FUNDS');
    await page.keyboard.press('Escape');
    await tab(page, 'rejected');
    const rej = page.locator('[data-testid=blotter] [data-testid=reject-row][data-code=INSUFFICIENT_FUNDS]').first();
    expect(await rej.locator('.reason').textContent()).toMatch(venueSays);
    await tab(page, 'working');
    expect(await workingRow(page, id).locator('[data-field=qty]').textContent()).toBe('100');
  });

  it('shows reconnecting while the server restarts, then recovers with the same orders and live quotes', async () => {
    const before = await attrAll(workingRows(page), 'data-order-id');
    expect(before.length).toBeGreaterThan(0);
    await bot.stop();
    await ex.stop();
    await page.locator('[data-testid=connection][data-state=reconnecting]').waitFor({ timeout: 10_000 });
    await page.getByTestId('stale-banner').waitFor();
    expect(await workingRows(page).count()).toBe(before.length); // stale, but not thrown away
    await ex.start();
    await waitConnected(page, 20_000);
    await until(() => page.getByTestId('stale-banner').count(), (n) => n === 0, 5000, 'the stale banner to go');
    await startBot();
    await watchCell(page, 'ACME', 'bid', 2); // the quote stream was re-subscribed
    const after = await attrAll(workingRows(page), 'data-order-id');
    expect(after.sort()).toEqual(before.sort());
    // still able to trade after the restart
    await fillTicket(page, { side: 'buy', type: 'limit', qty: '10', price: '93.00' });
    await submitTicket(page);
    await until(() => workingRows(page).count(), (n) => n === before.length + 1, 10_000, 'a new working order after the restart');
    expect(realProblems(w.problems)).toEqual([]);
  });
});
