/**
 * The Admin panel in a browser against the exchange server: an administrator creates a user (a weak
 * password refused in words), disables a trader (confirmed first; their working orders are canceled and
 * the panel says how many), turns off a lost authenticator, gives a temporary password, moves cash, lists,
 * halts and resumes instruments, reads the audit log and makes a backup. Traders are not offered the panel. Real server,
 * real SQLite, real Chromium.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, openPage, realProblems, type WatchedPage } from './browser.js';
import { rendererBuild } from './build.js';
import { api } from '../../../server/test/helpers.js';
import { PASSWORD, TestExchange, type Tokens } from './exchange.js';
import { attrAll, pickSymbol, signIn, until, waitConnected } from './ui.js';

let ex: TestExchange;
let browser: Browser;
let carl: Tokens;
let w: WatchedPage;
let page: Page;
let carlPage: WatchedPage;

beforeAll(async () => {
  ex = new TestExchange(rendererBuild());
  await ex.start();
  await ex.setup();
  carl = await ex.trader('carl', 10_000_000);
  await ex.enableTotp(await ex.trader('dana', 0));
  // two working orders far from the market, so they rest
  for (const price of [9_100, 9_200]) await ex.rpc('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 10, price, tif: 'gtc' }, carl.accessToken);
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ex?.dispose();
});

const user = (name: string) => page.locator(`[data-testid=admin-user][data-username=${name}]`);
const notice = () => page.getByTestId('admin-notice');

async function accessToken(username: string): Promise<string> {
  const r = await fetch(`${ex.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
  return ((await r.json()) as { accessToken: string }).accessToken;
}

async function noticeText(re: RegExp): Promise<string> {
  return until(async () => ((await notice().count()) > 0 ? ((await notice().textContent()) ?? '') : ''), (t) => re.test(t), 10_000, `a notice like ${re}`);
}

describe('the Admin panel', () => {
  it('is offered to an admin only', async () => {
    const t = await openPage(browser, `${ex.url}/`);
    await signIn(t.page, 'carl', PASSWORD);
    await waitConnected(t.page);
    const options = await attrAll(t.page.locator('select[aria-label="Add panel"] option'), 'value');
    expect(options).toContain('blotter');
    expect(options).not.toContain('admin');
    carlPage = t; // kept open: it is told why when an admin disables carl

    w = await openPage(browser, `${ex.url}/`, { width: 1600, height: 900 });
    page = w.page;
    await signIn(page, 'admin', PASSWORD);
    await waitConnected(page);
    await page.selectOption('select[aria-label="Add panel"]', 'admin');
    await page.getByTestId('admin-users').waitFor({ timeout: 10_000 });
    expect(await attrAll(page.locator('[data-testid=admin-user]'), 'data-username')).toEqual(
      expect.arrayContaining(['admin', 'carl', 'dana']),
    );
    // no actions on one's own account
    expect(await user('admin').getByRole('button', { name: 'Disable' }).isDisabled()).toBe(true);
  });

  it('creates a user, refusing a weak password in words', async () => {
    const form = page.getByTestId('admin-create');
    await form.getByLabel('User name').fill('erin');
    await form.getByLabel('Temporary password').fill('password');
    await form.getByRole('button', { name: 'Create' }).click();
    const err = page.getByTestId('admin-create-error');
    await err.waitFor({ timeout: 10_000 });
    expect(await err.textContent()).toMatch(/^The password must have at least 8 characters and not be a commonly used password|^The password must/);
    await form.getByLabel('Temporary password').fill('temporary passphrase 5');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Create' }).click();
    expect(await noticeText(/^Created erin/)).toMatch(/^Created erin \(viewer, account #\d+\): they choose their own password at their first sign-in\.$/);
    await user('erin').waitFor();
    expect(await user('erin').locator('[data-field=status]').textContent()).toBe('Temporary password');
  });

  it("shows another admin's changes, and a user's own, as they happen", async () => {
    const status = (name: string) => user(name).locator('[data-field=status]').textContent();
    // erin chooses her own password: no longer a temporary one
    const l = await api(ex.url, 'POST', '/api/v1/auth/login', { body: { username: 'erin', password: 'temporary passphrase 5' } });
    expect((await api(ex.url, 'POST', '/api/v1/auth/password', { token: l.body.accessToken, body: { currentPassword: 'temporary passphrase 5', newPassword: PASSWORD } })).status).toBe(204);
    await until(() => status('erin'), (t) => t === 'Active', 5000, "erin's own password to show");
    // another admin (another session) disables her, makes her a trader and enables her again
    const other = ex.admin!.accessToken;
    const erinId = Number(await user('erin').getAttribute('data-id'));
    expect((await api(ex.url, 'POST', `/api/v1/admin/users/${erinId}/disable`, { token: other })).status).toBe(200);
    await until(() => status('erin'), (t) => t === 'Disabled', 5000, 'the other admin\'s disable to show');
    expect((await api(ex.url, 'POST', `/api/v1/admin/users/${erinId}/role`, { token: other, body: { role: 'trader' } })).status).toBe(200);
    expect((await api(ex.url, 'POST', `/api/v1/admin/users/${erinId}/enable`, { token: other })).status).toBe(200);
    await until(() => status('erin'), (t) => t === 'Active', 5000, 'the other admin\'s enable to show');
    expect(await user('erin').getByLabel('Role of erin').inputValue()).toBe('trader');
    // and a user the other admin creates appears
    await ex.newUser('fred', 'temporary passphrase 7', 0);
    await user('fred').waitFor({ timeout: 5000 });
    expect(await status('fred')).toBe('Temporary password');
  });

  it('disables a trader after a confirmation: signed out, working orders canceled, and says how many', async () => {
    expect(await user('carl').locator('[data-field=open-orders]').textContent()).toBe('2');
    expect(await user('carl').locator('[data-field=cash]').textContent()).toBe('100,000.00');
    await user('carl').getByRole('button', { name: 'Disable' }).click();
    const confirm = page.getByTestId('admin-confirm');
    expect(await confirm.textContent()).toContain('Disable carl? They are signed out everywhere at once, and their working orders are canceled.');
    await confirm.getByRole('button', { name: 'Disable' }).click();
    expect(await noticeText(/^carl is disabled/)).toBe('carl is disabled: signed out everywhere, 2 working orders canceled.');
    await until(() => user('carl').getAttribute('data-disabled'), (d) => d === 'true', 5000, 'carl to show as disabled');
    expect(await user('carl').locator('[data-field=status]').textContent()).toBe('Disabled');
    expect(ex.app!.venue.view.openOrders(carl.user.accountId!)).toEqual([]);
    // carl's own workstation is back at the sign-in page, saying why
    const told = carlPage.page.getByTestId('login-note');
    await told.waitFor({ timeout: 10_000 });
    expect(await told.textContent()).toBe('An administrator disabled your account.');
    await carlPage.context.close();
    await until(() => user('carl').locator('[data-field=open-orders]').textContent(), (t) => t === '0', 5000, "carl's open orders to show 0");
    // and back
    await user('carl').getByRole('button', { name: 'Enable' }).click();
    expect(await noticeText(/may sign in again/)).toBe('carl may sign in again.');
  });

  it('turns off a lost authenticator and gives a temporary password', async () => {
    await user('dana').getByRole('button', { name: 'Reset 2FA' }).click();
    await page.getByTestId('admin-confirm').getByRole('button', { name: 'Turn off 2FA' }).click();
    expect(await noticeText(/^Two-factor/)).toMatch(/^Two-factor authentication is off for dana; \d sessions? ended\.$/);
    await until(() => user('dana').getByRole('button', { name: 'Reset 2FA' }).count(), (n) => n === 0, 5000, 'the Reset 2FA button to go');

    await user('dana').getByRole('button', { name: 'Reset password' }).click();
    const confirm = page.getByTestId('admin-confirm');
    expect(await confirm.getByRole('button', { name: 'Set password' }).isDisabled()).toBe(true);
    await confirm.getByLabel('Temporary password for dana').fill('temporary passphrase 6');
    await page.keyboard.press('Enter');
    expect(await noticeText(/temporary password/)).toMatch(/^dana has a temporary password to change at their next sign-in; \d sessions? ended\.$/);
    // the password works, as a temporary one
    const r = await fetch(`${ex.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'dana', password: 'temporary passphrase 6' }) });
    expect(((await r.json()) as { user: { mustChangePassword: boolean } }).user.mustChangePassword).toBe(true);
  });

  it('deposits and withdraws cash, refusing a withdrawal beyond the cash in words', async () => {
    await user('carl').getByRole('button', { name: 'Cash' }).click();
    const confirm = page.getByTestId('admin-confirm');
    await confirm.getByLabel('Amount for carl').fill('1,000.50');
    await page.keyboard.press('Enter'); // the first action: Deposit
    expect(await noticeText(/^Deposited/)).toBe("Deposited 1,000.50 into carl's account #2: cash 101,000.50.");
    await until(() => user('carl').locator('[data-field=cash]').textContent(), (t) => t === '101,000.50', 5000, "carl's cash to show the deposit");
    await user('carl').getByRole('button', { name: 'Cash' }).click();
    await confirm.getByLabel('Amount for carl').fill('2000000');
    await confirm.getByRole('button', { name: 'Withdraw' }).click();
    await until(() => notice().getAttribute('data-ok'), (ok) => ok === 'false', 10_000, 'the refusal');
    expect(await notice().textContent()).toBe("Not enough cash in carl's account #2 to withdraw 2,000,000.00.");
    await confirm.getByLabel('Amount for carl').fill('0.50');
    await confirm.getByRole('button', { name: 'Withdraw' }).click();
    expect(await noticeText(/^Withdrew/)).toBe("Withdrew 0.50 from carl's account #2: cash 101,000.00.");
  });

  it("lists an instrument, halts and resumes one; a trader's workstation shows each change as it happens", async () => {
    // a trader at their workstation, on ACME
    const tess = await ex.trader('tess', 1_000_000);
    const tom = await ex.trader('tom', 1_000_000);
    // one trade on ACME, straight into the venue (no order.place in the audit log): its chart has a bar
    const v = ex.app!.venue;
    await v.submit({ type: 'PlaceOrder', accountId: tess.user.accountId!, symbol: 'ACME', side: 'sell', orderType: 'limit', qty: 1, price: 9_500, tif: 'gtc' });
    await v.submit({ type: 'PlaceOrder', accountId: tom.user.accountId!, symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_500, tif: 'ioc' });
    // and a bid of hers resting a tick under the trade, for her to cancel from the ladder during the halt
    const resting = 9_500 - v.view.instrument('ACME')!.tickSize;
    await v.submit({ type: 'PlaceOrder', accountId: tess.user.accountId!, symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 2, price: resting, tif: 'gtc' });
    const [restingId] = v.view.openOrders(tess.user.accountId!).map((o) => o.orderId);
    const t = await openPage(browser, `${ex.url}/`);
    await signIn(t.page, 'tess', PASSWORD);
    await waitConnected(t.page);
    await pickSymbol(t.page, 'ACME');
    const tessAcme = t.page.locator('[data-testid=watchlist] tr[data-symbol=ACME]');
    expect(await t.page.locator('#t-instruments option[value=ZETA]').count()).toBe(0);

    await page.getByRole('tab', { name: 'Instruments' }).click();
    await page.getByTestId('admin-instruments').waitFor({ timeout: 10_000 });
    const form = page.getByTestId('admin-create-instrument');
    await form.getByLabel('Symbol').fill('zeta');
    await form.getByLabel('Name').fill('Zeta Corp');
    await form.getByLabel('Reference price').fill('50.001');
    await form.getByRole('button', { name: 'List' }).click();
    expect(await page.getByTestId('admin-instrument-error').textContent()).toBe('Reference price: At most 2 decimals');
    await form.getByLabel('Reference price').fill('50.00');
    await form.getByLabel('Band percent').fill('5');
    await form.getByRole('button', { name: 'List' }).click();
    expect(await noticeText(/^ZETA/)).toBe('ZETA is listed: Zeta Corp, reference 50.00, band 47.50–52.50.');
    await page.locator('[data-testid=admin-instrument][data-symbol=ZETA]').waitFor();
    // the trader's ticket offers it at once
    await until(() => t.page.locator('#t-instruments option[value=ZETA]').count(), (n) => n === 1, 5000, "ZETA in tess's ticket");
    // ...and her watchlist; a chart of it shows no bars, and no legend left over from ACME's last bar
    await t.page.getByTestId('chart-legend').waitFor({ timeout: 10_000 });
    // the width lightweight-charts gives the right price axis (the last cell of its layout table's first row)
    const priceAxisWidth = async () => {
      const box = await t.page.getByTestId('chart').first().locator('table tr').first().locator('> td').last().boundingBox();
      return box === null ? -1 : Math.round(box.width);
    };
    expect(await priceAxisWidth()).toBeGreaterThan(20);
    await t.page.getByLabel('Add symbol').fill('ZETA');
    await t.page.getByLabel('Add symbol').press('Enter');
    await pickSymbol(t.page, 'ZETA');
    await t.page.getByText('No trades yet in ZETA').waitFor({ timeout: 5000 });
    expect(await t.page.getByTestId('chart-legend').count()).toBe(0);
    await until(priceAxisWidth, (w) => w === 0, 5000, "the price axis to go from ZETA's empty chart");
    // the ticket's price is ZETA's reference, not the price it had for ACME
    expect(await t.page.locator('#t-price').inputValue()).toBe('50.00');
    await pickSymbol(t.page, 'ACME');
    await until(priceAxisWidth, (w) => w > 20, 5000, "the price axis to come back with ACME's bars");

    const acme = page.locator('[data-testid=admin-instrument][data-symbol=ACME]');
    await acme.getByRole('button', { name: 'Halt' }).click();
    await page.getByTestId('admin-confirm').getByRole('button', { name: 'Halt' }).click();
    expect(await noticeText(/^ACME is halted/)).toBe('ACME is halted: new orders and changes are refused until it resumes.');
    await until(() => acme.getAttribute('data-status'), (st) => st === 'halted', 5000, 'ACME to show as halted');
    const refused = await fetch(`${ex.url}/api/v1/rpc/order.place`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await accessToken('carl')}` },
      body: JSON.stringify({ symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_500, tif: 'day' }),
    });
    expect(((await refused.json()) as { code: string }).code).toBe('MARKET_HALTED');
    // tess sees the halt without reloading: on the watchlist row, and on the ticket, which will not send
    await tessAcme.getByTestId('halted').waitFor({ timeout: 5000 });
    expect(await t.page.getByTestId('ticket-halted').textContent()).toBe('ACME is halted by the exchange: orders are refused until trading resumes.');
    expect(await t.page.getByTestId('ticket-submit').isDisabled()).toBe(true);
    expect(await t.page.locator('[data-testid=watchlist] [data-testid=halted]').count()).toBe(1); // only ACME
    // her depth ladder says so too, and a click on it places nothing
    await t.page.selectOption('select[aria-label="Add panel"]', 'ladder');
    const ladder = t.page.getByTestId('depth-ladder');
    await ladder.getByTestId('halted').waitFor({ timeout: 5000 });
    await ladder.locator('[role=row][data-price]').nth(2).locator('[data-col=bid]').click();
    expect(await ladder.getByRole('alert').textContent()).toBe('ACME is halted by the exchange: orders are refused until trading resumes');
    expect(await t.page.getByTestId('order-preview').count()).toBe(0);
    expect(ex.app!.venue.view.openOrders(tess.user.accountId!).map((o) => o.orderId)).toEqual([restingId]);
    // a click on her own bid still cancels it: the exchange takes cancels during a halt
    const own = ladder.locator(`[role=row][data-price="${resting}"] [data-testid=own-buy]`);
    expect(await own.textContent()).toBe('2 ×');
    await own.click();
    await until(() => Promise.resolve(ex.app!.venue.view.openOrders(tess.user.accountId!).length), (n) => n === 0, 5000, 'the cancel from the ladder during the halt');
    await own.waitFor({ state: 'detached', timeout: 5000 });
    expect(await ladder.getByRole('alert').count()).toBe(0);
    await acme.getByRole('button', { name: 'Resume' }).click();
    expect(await noticeText(/open for trading/)).toBe('ACME is open for trading again.');
    await until(() => tessAcme.getByTestId('halted').count(), (n) => n === 0, 5000, "the halt to leave tess's watchlist");
    expect(await t.page.getByTestId('ticket-halted').count()).toBe(0);
    expect(await ladder.getByTestId('halted').count()).toBe(0);
    expect(await ladder.getByRole('alert').count()).toBe(0);
    expect(await t.page.getByTestId('ticket-submit').isDisabled()).toBe(false);
    expect(realProblems(t.problems)).toEqual([]);
    await t.context.close();
    await page.getByRole('tab', { name: 'Users' }).click();
  });

  it('reads the audit log, filtered by action', async () => {
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByTestId('admin-audit').waitFor({ timeout: 10_000 });
    // the filter offers the actions shown and their groups
    expect(await attrAll(page.locator('#audit-actions option'), 'value')).toEqual(expect.arrayContaining(['admin', 'admin.user', 'admin.user.disable', 'auth.login']));
    // typed key by key, in either case: the log is asked once typing pauses, not at every key
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/v1/admin/audit') asked.push(u.searchParams.get('action') ?? '');
    };
    page.on('request', onRequest);
    await page.getByLabel('Action').pressSequentially('ADMIN.User', { delay: 30 });
    await until(() => attrAll(page.locator('[data-testid=audit-row]'), 'data-action'), (a) => a.length > 0 && a.every((x) => x.startsWith('admin.user.')), 10_000, 'only admin.user entries');
    page.off('request', onRequest);
    // (key by key would be ten; a pause under load may let one more through)
    expect(asked.at(-1)).toBe('ADMIN.User');
    expect(asked.length).toBeLessThanOrEqual(3);
    const disable = page.locator('[data-testid=audit-row][data-action="admin.user.disable"]').first();
    expect(await disable.locator('.audit-details').textContent()).toMatch(/username carl · canceledOrders 2/);
    expect(await page.locator('[data-testid=audit-row][data-action="admin.user.password_reset"]').count()).toBe(1);
    // another admin's action arrives on top as it is written, without "Refresh"; a failed sign-in does not
    // match this filter and stays out
    const fredId = (await api(ex.url, 'GET', '/api/v1/admin/users', { token: ex.admin!.accessToken })).body.find((u: { username: string }) => u.username === 'fred').id as number;
    expect((await api(ex.url, 'POST', '/api/v1/auth/login', { body: { username: 'fred', password: 'not the password' } })).status).toBe(401);
    expect((await api(ex.url, 'POST', `/api/v1/admin/users/${fredId}/disable`, { token: ex.admin!.accessToken })).status).toBe(200);
    const top = page.locator('[data-testid=audit-row]').first();
    await until(() => top.getAttribute('data-action'), (a) => a === 'admin.user.disable', 5000, "the other admin's disable on top");
    expect(await top.locator('.audit-details').textContent()).toBe(`userId ${fredId} · username fred · canceledOrders 0`);
    expect(await page.locator('[data-testid=audit-row][data-action="auth.login_failed"]').count()).toBe(0);

    // more entries than a page: the newest 200, then the older ones on request
    const token = await accessToken('carl');
    for (let i = 0; i < 205; i++) await ex.rpc('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + (i % 50) * 10, tif: 'gtc' }, token);
    expect(await page.getByTestId('audit-orders-note').count()).toBe(0); // admin.user: every new entry is pushed
    await page.getByLabel('Action').fill('order.place');
    await page.getByTestId('audit-orders-note').waitFor({ timeout: 5000 }); // orders' are not
    const rows = page.locator('[data-testid=audit-row]');
    await until(() => rows.count(), (n) => n === 200, 10_000, 'the first page of order.place entries');
    // the newest (the 205th, at 9,040 cents) reads in money, as the ticket shows it
    expect(await rows.first().locator('.audit-details').textContent()).toMatch(/^symbol ACME · side buy · orderType limit · qty 1 · price 90\.40 · orderId \d+ · via rest$/);
    await page.getByTestId('audit-older').click();
    // 2 placed before, 1 refused while ACME was halted (refusals are audited too), 205 now
    await until(() => rows.count(), (n) => n === 208, 10_000, 'all 208 order.place entries');
    expect(await page.getByTestId('audit-older').count()).toBe(0);
    const ids = await attrAll(rows, 'data-id');
    expect(new Set(ids).size).toBe(208);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => b - a));
    // and by user: dana placed nothing
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'dana' });
    await until(() => page.getByText('No entries for this filter').count(), (n) => n === 1, 10_000, 'no order.place entries for dana');
    await page.getByLabel('Action').fill('');
    await until(() => attrAll(rows, 'data-action'), (a) => a.length > 0 && a.includes('auth.2fa.enabled') && !a.some((x) => x.startsWith('order.')), 10_000, "dana's entries");
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('reads the audit log as it was at a moment, and exports what the filter holds as a CSV file', async () => {
    const rows = page.locator('[data-testid=audit-row]');
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'carl' });
    await page.getByLabel('Action').fill('order.place');
    await until(() => rows.count(), (n) => n === 200, 10_000, "carl's order.place entries");
    // a moment among carl's orders: the second of his 100th newest order entry (the input counts seconds)
    const all = (await api(ex.url, 'GET', '/api/v1/admin/audit?action=order.place&limit=1000', { token: ex.admin!.accessToken })).body as { id: number; ts: number; userId: number }[];
    const carls = all.filter((e) => e.userId === all[0]!.userId);
    const second = Math.floor(carls[100]!.ts / 1000) * 1000;
    const d = new Date(second);
    const local = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
    const want = carls.filter((e) => e.ts <= second + 999).map((e) => String(e.id));
    expect(want.length).toBeGreaterThan(100);
    await page.getByTestId('audit-until').fill(local);
    // the entries of that second and before, newest first; the first page of them (once the action filter,
    // asked for when typing pauses, is in too)
    await until(() => attrAll(rows, 'data-id'), (ids) => JSON.stringify(ids) === JSON.stringify(want.slice(0, 200)), 10_000, "carl's order entries at that moment");
    expect(await page.locator('.admin-body .toolbar').textContent()).toContain(`newest first at or before ${local.replace('T', ' ')} · ${want.length >= 200 ? '200+' : want.length} entries`);
    expect((await attrAll(rows, 'data-ts')).every((t) => Number(t) <= second + 999)).toBe(true);
    expect(await page.getByTestId('audit-orders-note').count()).toBe(0);
    // a new entry after that moment stays out of it (it is not pushed on top)
    await ex.rpc('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000, tif: 'gtc' }, await accessToken('carl'));
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    await until(() => attrAll(rows, 'data-id'), (ids) => ids[0] === want[0], 5000, 'still the log at that moment');

    // exported: every entry the filter holds (not only the page shown), as the route gives them
    const download = page.waitForEvent('download', { timeout: 20_000 });
    await page.getByTestId('audit-export').click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^audit-Desk-Test-Exchange-\d{8}T\d{4}-\d{8}T\d{4}\.csv$/);
    const text = await readFile((await file.path())!, 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('id,time_utc,user_id,username,action,details,ip');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(want);
    const newest = carls.find((e) => String(e.id) === want[0])!;
    expect(lines[1]).toMatch(new RegExp(`^${newest.id},${new Date(newest.ts).toISOString().replace(/[.]/g, '\\.')},${newest.userId},carl,order\\.place,"\\{""symbol"":""ACME"",""side"":""buy"",.*""via"":""rest""\\}",127\\.0\\.0\\.1$`));
    expect(await notice().textContent()).toBe(`${want.length} entries exported.`);
    // an export clicked as soon as an action is typed (the list waits for typing to pause before it asks)
    // is of what is typed: carl's sign-ins at that moment, no orders
    await page.getByLabel('Action').fill('auth.login');
    const quick = page.waitForEvent('download', { timeout: 20_000 });
    await page.getByTestId('audit-export').click();
    const quickLines = (await readFile((await (await quick).path())!, 'utf8')).split('\r\n').slice(1, -1);
    expect(quickLines.length).toBeGreaterThan(0);
    expect(quickLines.filter((l) => !l.split(',')[4]!.startsWith('auth.login'))).toEqual([]);

    // everyone's entries at that moment: a failed sign-in now is not pushed on top of them (the live log
    // pushes it to the latest entries, below)
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'All users' });
    await page.getByLabel('Action').fill('');
    const then = (await api(ex.url, 'GET', `/api/v1/admin/audit?until=${second + 999}&limit=1`, { token: ex.admin!.accessToken })).body[0].id as number;
    await until(() => attrAll(rows, 'data-id'), (ids) => ids[0] === String(then), 10_000, "everyone's log at that moment");
    expect((await api(ex.url, 'POST', '/api/v1/auth/login', { body: { username: 'carl', password: 'not the password' } })).status).toBe(401);
    await page.waitForTimeout(1000);
    expect((await attrAll(rows, 'data-ts')).every((t) => Number(t) <= second + 999)).toBe(true);
    await page.getByTestId('audit-latest').click();
    await until(() => rows.first().getAttribute('data-action'), (a) => a === 'auth.login_failed', 10_000, 'the latest entries, the failed sign-in on top');
    expect(await page.getByTestId('audit-latest').count()).toBe(0);
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('reads the entries from an address: a click on one, and a user for their placed orders too', async () => {
    const rows = page.locator('[data-testid=audit-row]');
    const ids = () => attrAll(rows, 'data-id');
    const route = async (q: string): Promise<string[]> =>
      ((await api(ex.url, 'GET', `/api/v1/admin/audit?limit=200&${q}`, { token: ex.admin!.accessToken })).body as { id: number }[]).map((e) => String(e.id));
    // every client here is 127.0.0.1: a click on the failed sign-in's address
    // (in the workspace's corner the rows are out of sight under the toolbar: as an admin would, maximised)
    await page.locator('[data-panel=admin]').getByRole('button', { name: 'Maximise' }).click();
    await rows.first().getByTestId('audit-from').click();
    expect(await page.getByTestId('audit-ip').inputValue()).toBe('127.0.0.1');
    const local = await route('ip=127.0.0.1');
    expect(local.length).toBeGreaterThan(5);
    await until(ids, (got) => got.join() === local.join(), 10_000, "the address's entries, as the route gives them");
    // no placed orders among them (carl placed 205), and the panel says where they are
    expect(await page.locator('[data-testid=audit-row][data-action="order.place"]').count()).toBe(0);
    expect(await page.getByTestId('audit-ip-note').textContent()).toMatch(/placed orders from an address: choose a user/);
    // the address of a row shown is not a link to itself
    expect(await rows.first().getByTestId('audit-from').count()).toBe(0);
    // with a user, all of theirs from there, placed orders too
    const carlId = (await api(ex.url, 'GET', '/api/v1/admin/users', { token: ex.admin!.accessToken })).body.find((u: { username: string }) => u.username === 'carl').id as number;
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'carl' });
    const carls = await route(`ip=127.0.0.1&userId=${carlId}`);
    await until(ids, (got) => got.join() === carls.join(), 10_000, "carl's entries from the address");
    expect(await page.locator('[data-testid=audit-row][data-action="order.place"]').count()).toBeGreaterThan(100);
    expect(await page.getByTestId('audit-ip-note').count()).toBe(0);
    // another address (any case, as typed): nothing from there; Escape clears it
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'All users' });
    // the same address written as IPv4-mapped IPv6, in upper case: the same entries
    await page.getByTestId('audit-ip').fill('::FFFF:127.0.0.1');
    await until(ids, (got) => got.join() === local.join(), 10_000, 'the address written as IPv4-mapped IPv6');
    // not an address: said at once, nothing asked, no export
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/v1/admin/audit') asked.push(u.searchParams.get('ip') ?? '');
    };
    page.on('request', onRequest);
    await page.getByTestId('audit-ip').fill('the office');
    await page.getByText('“the office” is not an IP address (IPv4 or IPv6)').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('audit-export').isDisabled()).toBe(true);
    page.off('request', onRequest);
    expect(asked).toEqual([]);
    await page.getByTestId('audit-ip').fill('2001:DB8::1');
    await page.getByText('No entries for this filter').waitFor({ timeout: 10_000 });
    await page.getByTestId('audit-ip').press('Escape');
    expect(await page.getByTestId('audit-ip').inputValue()).toBe('');
    await rows.first().waitFor({ timeout: 10_000 }); // the whole log as last read
    await page.getByRole('button', { name: 'Refresh' }).click(); // (the orders' entries show on Refresh)
    const latest = await route('');
    await until(ids, (got) => got.join() === latest.join(), 10_000, 'the whole log again');
    await page.locator('[data-panel=admin]').getByRole('button', { name: 'Restore' }).click();
    expect(realProblems(w.problems)).toEqual([]);
  });

  it('makes a backup of the server now and lists the backups, newest first', async () => {
    await page.getByRole('tab', { name: 'Backups' }).click();
    await page.getByText('No backups yet').waitFor({ timeout: 10_000 });
    await page.getByTestId('backup-now').click();
    const text = await noticeText(/^Backup made: /);
    const rows = page.locator('[data-testid=backup-row]');
    await until(() => rows.count(), (n) => n === 1, 10_000, 'the backup listed');
    const made = (await api(ex.url, 'GET', '/api/v1/admin/backups', { token: ex.admin!.accessToken })).body as { name: string; seq: number; bytes: number; by: string }[];
    expect(made.map((b) => b.by)).toEqual(['admin']);
    // its size in binary units and the last command it holds, as the list says too
    const b = made[0]!.bytes;
    const size = b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} KB`;
    expect(text).toBe(`Backup made: ${size} up to command ${made[0]!.seq.toLocaleString('en-US')}, in ${text.match(/in (\d+\.\d) s\.$/)?.[1]} s.`);
    expect(await rows.first().getAttribute('data-name')).toBe(made[0]!.name);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe(made[0]!.seq.toLocaleString('en-US'));
    expect(await rows.first().locator('td').nth(2).textContent()).toBe(size);
    // one made meanwhile (a schedule's turn, another admin) shows on Refresh, on top
    const next = (await api(ex.url, 'POST', '/api/v1/admin/backups', { token: ex.admin!.accessToken })).body as { name: string };
    await page.getByRole('button', { name: 'Refresh' }).click();
    await until(() => attrAll(rows, 'data-name'), (n) => n.length === 2, 10_000, 'two backups');
    expect(await attrAll(rows, 'data-name')).toEqual([next.name, made[0]!.name]);
    // how to restore the newest: the command, with its folder on the server
    const dir = ((await api(ex.url, 'GET', '/api/v1/admin/backups', { token: ex.admin!.accessToken })).body as { dir: string }[])[0]!.dir;
    await until(() => page.getByTestId('backup-restore').locator('code').first().textContent(), (t) => t === `tradedesk-server restore ${dir}`, 10_000, 'the restore command of the newest backup');
    expect(await page.getByTestId('backup-running').count()).toBe(0);
    expect(await page.getByTestId('backup-failed').count()).toBe(0);
    expect(realProblems(w.problems)).toEqual([]);
  });

  it("shows a backup the schedule is making, and the list once it is made; a scheduled backup's failure is said in the panel", async () => {
    const rows = page.locator('[data-testid=backup-row]');
    const before = await rows.count();
    // a venue of some size, so that its backup takes a while
    const bars = Array.from({ length: 300_000 }, (_, i) => ({ t: 1_600_000_020_000 + i * 60_000, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 5 }));
    ex.app!.venue.importCandles('ACME', '1m', bars);
    const made = ex.app!.backups.run('schedule');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await until(() => page.getByTestId('backup-running').count(), (n) => n === 1, 5_000, 'the backup being made');
    expect(await page.getByTestId('backup-running').textContent()).toMatch(/^A backup is being made, since \d\d:\d\d:\d\d, by the schedule\.$/);
    expect(await page.getByTestId('backup-now').isDisabled()).toBe(true);
    const b = await made;
    // the panel sees it end (it asks every 2 s while one runs) and lists it, on top
    await until(() => attrAll(rows, 'data-name'), (n) => n[0] === b.name, 10_000, 'the scheduled backup listed');
    expect(await rows.count()).toBe(before + 1);
    expect(await page.getByTestId('backup-running').count()).toBe(0);
    expect(await page.getByTestId('backup-now').isEnabled()).toBe(true);

    // the backup folder made impossible (a file in its place): the schedule's next turn fails
    const dir = ex.app!.backups.dir;
    renameSync(dir, `${dir}.aside`);
    writeFileSync(dir, 'in the way');
    try {
      await expect(ex.app!.backups.run('schedule')).rejects.toMatchObject({ code: 'INTERNAL' });
      await page.getByRole('button', { name: 'Refresh' }).click();
      await until(() => page.getByTestId('backup-failed').count(), (n) => n === 1, 5_000, 'the failure shown');
      expect(await page.getByTestId('backup-failed').textContent()).toMatch(/^The last backup, by the schedule at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, failed: (?!The backup failed)\S/);
      // one asked for here fails the same way: answered as it began, its failure is this panel's notice
      await page.getByTestId('backup-now').click();
      const why = ((await api(ex.url, 'GET', '/api/v1/admin/backups/status', { token: ex.admin!.accessToken })).body as { lastFailure: { message: string } }).lastFailure.message;
      expect(await noticeText(/\S/)).toBe(why);
      expect(await page.getByTestId('backup-failed').count()).toBe(0);
    } finally {
      rmSync(dir, { force: true });
      renameSync(`${dir}.aside`, dir);
    }
    // a later backup ends it; the panel says it is being made while it is (the venue is large), then that it is made
    await page.getByTestId('backup-now').click();
    await until(() => page.getByTestId('backup-running').count(), (n) => n === 1, 5_000, 'our backup being made');
    expect(await page.getByTestId('backup-running').textContent()).toMatch(/^A backup is being made, since \d\d:\d\d:\d\d, by admin\.$/);
    await noticeText(/^Backup made: /);
    await until(() => page.getByTestId('backup-failed').count(), (n) => n === 0, 10_000, 'the failure over');
    expect(await page.getByTestId('backup-running').count()).toBe(0);
    expect(realProblems(w.problems)).toEqual([]);
  });
});
