/**
 * npm run screenshots [-- workstation|login|admin]: the main views in dark and light, from the production build in headless Chromium,
 * saved to docs/screenshots/. Local mode (headless host with the simulated market) for the workstation;
 * the exchange server for the firm sign-in with 2FA.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MemoryStore } from '../../main/src/credentials/store.js';
import { startHeadlessHost } from '../../main/src/host/headless.js';
import { launch } from './e2e/browser.js';
import { REPO, rendererBuild } from './e2e/build.js';
import { PASSWORD, TestExchange } from './e2e/exchange.js';
import { SIM_START, fillTicket, setConfirm, submitTicket, tab, until } from './e2e/ui.js';

const OUT = join(REPO, 'docs', 'screenshots');
const VIEW = { width: 1600, height: 900 };
type Theme = 'dark' | 'light';

async function setTheme(page: Page, theme: Theme): Promise<void> {
  const current = await page.evaluate('document.documentElement.dataset.theme');
  if (current !== theme) await page.getByTestId('theme-toggle').click();
  await page.waitForTimeout(300);
}

const price = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

async function workstation(browser: Browser, dir: string): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'td-shots-'));
  const host = await startHeadlessHost({ userDataDir: data, rendererDir: dir, credentials: new MemoryStore(), seed: 20_240_601, simStart: SIM_START });
  try {
    const ctx = await browser.newContext({ viewport: VIEW });
    const page = await ctx.newPage();
    await page.goto(host.url);
    await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 30_000 });
    const rows = page.locator('[data-testid=watchlist] tbody tr');
    await rows.first().waitFor();
    const symbol = (await rows.nth(9).getAttribute('data-symbol'))!;
    await rows.nth(9).click();
    const inst = host.core.venue.view.instrument(symbol)!;
    await page.waitForTimeout(1500);
    // A position, a couple of working orders and a rejection, as a trader's day would have.
    await setConfirm(page, false);
    await fillTicket(page, { side: 'buy', type: 'market', qty: String(inst.lotSize * 40), tif: 'ioc' });
    await submitTicket(page);
    await page.locator(`[data-testid=positions] tr[data-symbol="${symbol}"]`).waitFor({ timeout: 10_000 });
    const q = host.core.venue.view.quote(symbol);
    const ref = q?.last ?? inst.previousClose;
    const tick = inst.tickSize;
    const on = (x: number) => x - (x % tick);
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 25), price: price(on(Math.floor(ref * 0.985))), tif: 'day' });
    await submitTicket(page);
    await fillTicket(page, { side: 'sell', type: 'limit', qty: String(inst.lotSize * 20), price: price(on(Math.floor(ref * 1.015))), tif: 'gtc' });
    await submitTicket(page);
    await until(() => page.locator('[data-testid=working-row]').count(), (n) => n >= 2, 10_000, 'two working orders');
    const row = page.locator('[data-testid=working-row]').first();
    await row.getByRole('button', { name: 'Modify' }).click();
    await page.getByLabel('New quantity').fill(String(inst.lotSize * 1_000_000));
    await page.keyboard.press('Enter');
    await page.getByTestId('modify-error').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await fillTicket(page, { side: 'buy', type: 'limit', qty: String(inst.lotSize * 30), price: price(on(Math.floor(ref * 0.99))), tif: 'day' });
    await page.getByTestId('ticket').getByLabel('Attach take profit / stop loss').check();
    await page.fill('#t-tp', price(on(Math.floor(ref * 1.03))));
    await page.fill('#t-sl', price(on(Math.floor(ref * 0.96))));
    await page.waitForTimeout(2500);

    for (const theme of ['dark', 'light'] as Theme[]) {
      await setTheme(page, theme);
      await page.mouse.move(VIEW.width * 0.45, VIEW.height * 0.3); // crosshair + OHLC legend on the chart
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(OUT, `workstation-${theme}.png`) });
      // The confirmation an order shows before it goes out.
      await setConfirm(page, true);
      await submitTicket(page);
      await page.getByTestId('confirm-dialog').waitFor();
      await page.screenshot({ path: join(OUT, `order-confirm-${theme}.png`) });
      await page.keyboard.press('Escape');
      await setConfirm(page, false);
      // The blotter's rejections with the reason in words.
      await tab(page, 'rejected');
      await page.locator('[data-panel=blotter]').screenshot({ path: join(OUT, `blotter-rejections-${theme}.png`) });
      await tab(page, 'working');
      await page.locator('[data-panel=blotter]').screenshot({ path: join(OUT, `blotter-working-${theme}.png`) });
    }
    await ctx.close();
  } finally {
    await host.close();
    rmSync(data, { recursive: true, force: true });
  }
}

/** A page on the exchange server in `theme`, with the sign-in form sent for `username`. */
async function firmSignIn(browser: Browser, ex: TestExchange, theme: Theme, viewport: { width: number; height: number }, username: string) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  // The sign-in page has no theme toggle: the theme preference is shared with the workstation.
  await page.goto(`${ex.url}/`);
  await page.evaluate(`localStorage.setItem('tradedesk.theme', JSON.stringify('${theme}'))`);
  await page.reload();
  await page.fill('#login-user', username);
  await page.fill('#login-pass', PASSWORD);
  await page.click('form.login button[type=submit]');
  return { ctx, page };
}

async function firmLogin(browser: Browser, dir: string): Promise<void> {
  const ex = new TestExchange(dir);
  await ex.start();
  try {
    await ex.setup();
    const bob = await ex.trader('bob', 1_000_000);
    const code = await ex.enableTotp(bob);
    for (const theme of ['dark', 'light'] as Theme[]) {
      const { ctx, page } = await firmSignIn(browser, ex, theme, { width: 900, height: 620 }, 'bob');
      await page.locator('#login-code').waitFor();
      await page.fill('#login-code', code(Date.now()) === '123456' ? '654321' : '123456');
      await page.click('form.login button[type=submit]');
      await page.getByTestId('login-error').waitFor();
      await page.screenshot({ path: join(OUT, `login-2fa-${theme}.png`) });
      await ctx.close();
    }
  } finally {
    await ex.dispose();
  }
}

/** The Admin panel, maximised: the users with a disable waiting for confirmation, the audit log, the instruments and the backups; then a trader's view of a halted symbol. */
async function firmAdmin(browser: Browser, dir: string): Promise<void> {
  const ex = new TestExchange(dir);
  await ex.start();
  try {
    await ex.setup();
    const carl = await ex.trader('carl', 10_000_000);
    for (const price of [9_100, 9_200, 9_300]) await ex.rpc('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 10, price, tif: 'gtc' }, carl.accessToken);
    await ex.enableTotp(await ex.trader('dana', 1_000_000));
    await ex.newUser('erin', 'temporary passphrase 5', 0);
    await ex.trader('viv', 0);
    await ex.trader('tess', 1_000_000);
    for (const theme of ['dark', 'light'] as Theme[]) {
      const { ctx, page } = await firmSignIn(browser, ex, theme, { width: 1280, height: 720 }, 'admin');
      await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 30_000 });
      await page.selectOption('select[aria-label="Add panel"]', 'admin');
      await page.locator('[data-panel=admin]').getByRole('button', { name: 'Maximise' }).click();
      const carlRow = page.locator('[data-testid=admin-user][data-username=carl]');
      if (theme === 'dark') {
        await carlRow.getByRole('button', { name: 'Disable' }).click();
        await page.getByTestId('admin-confirm').getByRole('button', { name: 'Disable' }).click();
        await page.getByTestId('admin-notice').waitFor();
        await carlRow.getByRole('button', { name: 'Enable' }).click();
        await until(() => page.getByTestId('admin-notice').textContent(), (t) => t === 'carl may sign in again.', 5000, 'the enable notice');
        await page.locator('[data-testid=admin-user][data-username=viv]').getByRole('button', { name: 'Disable' }).click();
      } else {
        await carlRow.getByRole('button', { name: 'Disable' }).click();
      }
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(OUT, `admin-users-${theme}.png`) });
      if (theme === 'dark') {
        await page.getByTestId('admin-confirm').getByRole('button', { name: 'Cancel' }).click();
        await page.getByRole('tab', { name: 'Audit log' }).click();
        await page.getByTestId('admin-audit').waitFor();
        await page.waitForTimeout(200);
        await page.screenshot({ path: join(OUT, 'admin-audit-dark.png') });
        // the entries from an address, by a click on one
        await page.locator('[data-testid=audit-row]').first().getByTestId('audit-from').click();
        await page.getByTestId('audit-ip-note').waitFor();
        await page.waitForTimeout(400);
        await page.screenshot({ path: join(OUT, 'admin-audit-address-dark.png') });
        await page.getByTestId('audit-ip').press('Escape');
        // carl's entries at a moment, exported, in a narrower window (the toolbar wraps)
        await page.setViewportSize({ width: 960, height: 600 });
        await page.getByLabel('User', { exact: true }).selectOption({ label: 'carl' });
        const d = new Date(Date.now() + 60_000);
        const p2 = (n: number) => String(n).padStart(2, '0');
        await page.getByTestId('audit-until').fill(`${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:00`);
        await page.getByTestId('audit-latest').waitFor();
        const download = page.waitForEvent('download');
        await page.getByTestId('audit-export').click();
        await download;
        await page.getByTestId('admin-notice').waitFor();
        await page.waitForTimeout(200);
        await page.screenshot({ path: join(OUT, 'admin-audit-export-dark.png') });
        await page.getByTestId('audit-latest').click();
        await page.getByLabel('User', { exact: true }).selectOption({ label: 'All users' });
        await page.setViewportSize({ width: 1280, height: 720 });
        await page.getByRole('tab', { name: 'Instruments' }).click();
        await page.locator('[data-testid=admin-instrument][data-symbol=GLOBEX]').getByRole('button', { name: 'Halt' }).click();
        await page.getByTestId('admin-confirm').getByRole('button', { name: 'Halt' }).click();
        await page.getByTestId('admin-notice').waitFor();
        await page.locator('[data-testid=admin-instrument][data-symbol=ACME]').getByRole('button', { name: 'Halt' }).click();
        await page.locator('[data-testid=admin-instrument][data-symbol=GLOBEX]').scrollIntoViewIfNeeded();
        await page.waitForTimeout(200);
        await page.screenshot({ path: join(OUT, 'admin-instruments-dark.png') });
        // two backups: one from a schedule's turn (made through the API here), then one made now
        await ex.app!.backups.run('schedule');
        await page.getByRole('tab', { name: 'Backups' }).click();
        await page.getByTestId('backup-now').click();
        await until(() => page.locator('[data-testid=backup-row]').count(), (n) => n === 2, 10_000, 'two backups listed');
        await page.waitForTimeout(200);
        await page.screenshot({ path: join(OUT, 'admin-backups-dark.png') });
        // a trader's workstation while GLOBEX is halted: the watchlist row and the ticket say so
        const t = await firmSignIn(browser, ex, theme, { width: 1280, height: 720 }, 'tess');
        await t.page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 30_000 });
        await t.page.getByLabel('Add symbol').fill('GLOBEX');
        await t.page.getByLabel('Add symbol').press('Enter');
        await t.page.locator('[data-testid=watchlist] tr[data-symbol=GLOBEX]').click();
        await t.page.getByTestId('ticket-halted').waitFor();
        await t.page.waitForTimeout(300);
        await t.page.screenshot({ path: join(OUT, 'trader-halted-dark.png') });
        await t.ctx.close();
      }
      await ctx.close();
    }
  } finally {
    await ex.dispose();
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = rendererBuild();
  const browser = await launch();
  try {
    // `npm run screenshots -- admin` (or workstation, login): one set only
    const only = process.argv[2];
    if (only === undefined || only === 'workstation') await workstation(browser, dir);
    if (only === undefined || only === 'login') await firmLogin(browser, dir);
    if (only === undefined || only === 'admin') await firmAdmin(browser, dir);
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${OUT}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
