/**
 * Firm mode through the hub (as in the desktop app): add a firm-server profile in the UI, the hub asks for
 * a sign-in, the password and the 2FA code go to the hub (`hub.login`, secrets stay in main), and every
 * order-entry surface switches from SIMULATION to the firm server's name; back to the local simulation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../main/src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../../../main/src/host/headless.js';
import { launch, openPage, realProblems } from './browser.js';
import { rendererBuild } from './build.js';
import { api } from '../../../server/test/helpers.js';
import { PASSWORD, TestExchange } from './exchange.js';
import { SIM_START, attrAll, until, waitConnected } from './ui.js';

let host: HeadlessHost;
let ex: TestExchange;
let dataDir: string;
let browser: Browser;
let code: (ms: number) => string;

/** A keychain whose reads can be held (one waiting for an unlock prompt) until it answers. */
class SlowKeychain extends MemoryStore {
  #held: Promise<void> | undefined;
  #answer: (() => void) | undefined;
  hold(): void {
    this.#held = new Promise((r) => (this.#answer = r));
  }
  answer(): void {
    this.#answer?.();
    this.#held = undefined;
  }
  override async get(account: string): Promise<string | undefined> {
    await this.#held;
    return super.get(account);
  }
}

/** The host's keychain: what a sign-in keeps there. */
const credentials = new SlowKeychain();
/** How long the hub waits for the keychain to read a stored session (3 s: the desktop's 20 s, shortened). */
const RESUME_MS = 3000;

beforeAll(async () => {
  const dir = rendererBuild();
  ex = new TestExchange(dir);
  await ex.start();
  await ex.setup();
  const bob = await ex.trader('bob', 5_000_000);
  code = await ex.enableTotp(bob);
  dataDir = mkdtempSync(join(tmpdir(), 'td-hubfirm-'));
  host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: dir, credentials, seed: 5, simStart: SIM_START, resumeTimeoutMs: RESUME_MS });
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await ex?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Adds a firm profile for the test exchange (or `url`) from the Connection menu, and connects to it. */
async function addProfile(page: Page, name: string, username: string, url = ex.url): Promise<void> {
  await page.getByLabel('Connection').selectOption('__add__');
  const form = page.getByTestId('add-profile');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Server address').fill(url);
  await form.getByLabel('User name (optional)').fill(username);
  await form.getByRole('button', { name: 'Save and connect' }).click();
}

describe('firm server through the hub', () => {
  it('adds a firm profile, signs in with 2FA via the hub, shows the firm instruments and account, and switches back to SIMULATION', async () => {
    const { page, problems, context } = await openPage(browser, host.url);
    await waitConnected(page);
    const badge = page.locator('.topbar [data-testid=mode-badge]');
    expect(await badge.textContent()).toBe('SIMULATION');

    // The add-server form keeps the keyboard (Tab cycles inside it) and Escape closes it
    const focusIn = async (id: string): Promise<boolean> => (await page.locator(`[data-testid=${id}]:focus, [data-testid=${id}] :focus`).count()) > 0;
    await page.getByLabel('Connection').selectOption('__add__');
    await page.getByTestId('add-profile').getByLabel('Name', { exact: true }).focus();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await focusIn('add-profile'), `Tab ${i + 1} stays in the form`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('add-profile').waitFor({ state: 'detached', timeout: 5_000 });

    await addProfile(page, 'Desk test', 'bob');

    // The hub needs a sign-in for this profile: the form asks, then asks for the code.
    await page.locator('[data-testid=connection][data-state=login_required]').waitFor({ timeout: 15_000 });
    // Nothing of the local simulation stays on screen under the firm badge.
    await until(() => page.locator('[data-testid=watchlist] tbody tr').count(), (n) => n === 0, 5000, 'the local watchlist to clear');
    expect(await page.locator('[data-testid=account] [data-field=cash]').count()).toBe(0);
    expect(await page.getByTestId('chart').getAttribute('data-bars')).toBe('0');
    // The sign-in is a modal of its own: the keyboard stays in it
    await page.getByTestId('hub-login').waitFor({ timeout: 10_000 });
    await page.locator('#login-pass').focus();
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      expect(await focusIn('hub-login'), `Tab ${i + 1} stays in the sign-in`).toBe(true);
    }
    await page.locator('#login-pass').fill(PASSWORD);
    await page.click('form.login button[type=submit]');
    await page.locator('#login-code').waitFor({ timeout: 10_000 });
    await page.fill('#login-code', code(Date.now()));
    await page.click('form.login button[type=submit]');
    await waitConnected(page, 20_000);
    await until(() => badge.textContent(), (t) => t === 'FIRM · Desk Test Exchange', 10_000, 'the firm badge');
    expect(await page.locator('[data-testid=ticket] [data-testid=mode-badge]').textContent()).toBe('FIRM · Desk Test Exchange');
    // The workstation now shows the firm venue's instruments and account.
    await page.locator('[data-testid=watchlist] tr[data-symbol=ACME]').waitFor({ timeout: 10_000 });
    await until(() => page.locator('[data-testid=account] [data-field=cash]').textContent(), (t) => t === '50,000.00', 10_000, "bob's cash");

    // An administrator disables bob: his session ends under him, and the sign-in says why in words.
    const users = await api(ex.url, 'GET', '/api/v1/admin/users', { token: ex.admin!.accessToken });
    const bobId = (users.body as { id: number; username: string }[]).find((u) => u.username === 'bob')!.id;
    expect((await api(ex.url, 'POST', `/api/v1/admin/users/${bobId}/disable`, { token: ex.admin!.accessToken })).status).toBe(200);
    await page.locator('[data-testid=connection][data-state=login_required]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('login-note').textContent()).toBe('An administrator disabled your account.');
    await page.locator('.modal').getByRole('button', { name: 'Cancel' }).click();

    await page.getByLabel('Connection').selectOption('local');
    await until(() => badge.textContent(), (t) => t === 'SIMULATION', 15_000, 'back to the simulation');
    await waitConnected(page);
    await until(() => page.locator('[data-testid=account] [data-field=cash]').textContent(), (t) => t !== '50,000.00' && t !== null, 10_000, 'the local account');
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it("an administrator administers the firm's users from the desktop workstation, through the hub's session", { timeout: 60_000 }, async () => {
    const { page, problems, context } = await openPage(browser, host.url);
    page.setDefaultTimeout(10_000); // a step that cannot happen says which, rather than the test's own timeout
    await waitConnected(page);
    const menu = () => attrAll(page.locator('select[aria-label="Add panel"] option'), 'value');
    expect(await menu()).not.toContain('admin'); // not in the local simulation

    // bob's sign-in in the test before did not ask to be kept: nothing of his is in the keychain
    expect((await credentials.accounts()).filter((a) => a.endsWith('/refreshToken'))).toEqual([]);
    await addProfile(page, 'Desk admin', 'admin');
    await page.locator('[data-testid=connection][data-state=login_required]').waitFor({ timeout: 15_000 });
    await page.locator('#login-pass').fill(PASSWORD);
    // kept: the session's refresh token goes to the keychain, so the next start connects without a password
    expect(await page.getByTestId('login-remember').isChecked()).toBe(false);
    await page.getByTestId('login-remember').check();
    await page.click('form.login button[type=submit]');
    await waitConnected(page, 20_000);
    const kept = (await credentials.accounts()).filter((a) => a.endsWith('/refreshToken'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^desk-admin-[0-9a-f]{6}\/refreshToken$/);
    await until(menu, (m) => m.includes('admin'), 10_000, 'Admin in the Add-panel menu');

    await page.selectOption('select[aria-label="Add panel"]', 'admin');
    const row = (name: string) => page.locator(`[data-testid=admin-user][data-username=${name}]`);
    await row('bob').waitFor({ timeout: 10_000 });
    expect(await row('bob').locator('[data-field=status]').textContent()).toBe('Disabled'); // by the test before
    expect(await row('admin').getByRole('button', { name: 'Disable' }).isDisabled()).toBe(true); // not oneself
    await row('bob').getByRole('button', { name: 'Enable' }).click();
    await until(() => page.getByTestId('admin-notice').textContent(), (t) => t === 'bob may sign in again.', 10_000, 'the enable notice');
    await until(() => row('bob').locator('[data-field=status]').textContent(), (t) => t === 'Active', 5000, 'bob enabled');
    const users = await api(ex.url, 'GET', '/api/v1/admin/users', { token: ex.admin!.accessToken });
    expect((users.body as { username: string; disabled: boolean }[]).find((u) => u.username === 'bob')!.disabled).toBe(false);
    // the audit log, read through the hub too: the enable, by admin
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('admin.user.enable');
    await until(() => page.locator('[data-testid=audit-row]').count(), (n) => n === 1, 10_000, 'the enable in the audit log');
    expect(await page.locator('[data-testid=audit-row] .audit-details').textContent()).toMatch(/username bob/);

    await page.getByLabel('Connection').selectOption('local');
    await until(menu, (m) => !m.includes('admin'), 15_000, 'Admin gone from the menu in the simulation');
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('explains a sign-in to a server that cannot be reached in words about the server, not about an order', async () => {
    const { page, problems, context } = await openPage(browser, host.url);
    page.setDefaultTimeout(10_000);
    await waitConnected(page);
    // nothing listens there
    const gone = new URL(ex.url);
    gone.port = '9';
    await addProfile(page, 'Desk gone', 'bob', gone.origin);
    await page.locator('[data-testid=connection][data-state=login_required]').waitFor({ timeout: 15_000 });
    await page.locator('#login-pass').fill(PASSWORD);
    await page.click('form.login button[type=submit]');
    const err = page.getByTestId('login-error');
    await err.waitFor({ timeout: 20_000 });
    expect(await err.getAttribute('data-code')).toBe('UNAVAILABLE');
    const text = (await err.textContent()) ?? '';
    expect(text).toMatch(/^The server could not be reached\. Check its address and your network, then try again\. \(.+\)$/);
    expect(text).not.toMatch(/order|blotter|exchange/i);
    await page.locator('.modal').getByRole('button', { name: 'Cancel' }).click();
    await page.getByLabel('Connection').selectOption('local');
    await waitConnected(page, 15_000);
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('a connect waiting for the keychain shows the profile connecting; once the hub gives up, Retry connects when the keychain answers', { timeout: 60_000 }, async () => {
    const { page, problems, context } = await openPage(browser, host.url);
    page.setDefaultTimeout(10_000);
    await waitConnected(page);
    const menu = page.getByLabel('Connection');
    const connection = page.getByTestId('connection');
    const banner = page.getByTestId('stale-banner');
    const badge = page.locator('.topbar [data-testid=mode-badge]');
    // "Desk admin" keeps its session in the keychain (the test before): a connect reads it from there
    const kept = (await credentials.accounts()).find((a) => a.endsWith('/refreshToken'))!;
    const adminId = kept.slice(0, kept.indexOf('/'));

    credentials.hold();
    await menu.selectOption(adminId);
    await until(() => connection.textContent(), (t) => t === 'Connecting to Desk admin…', 5000, 'the connecting state');
    expect(await connection.getAttribute('data-state')).toBe('connecting');
    expect(await menu.inputValue()).toBe(adminId); // the profile picked, not the one still active
    expect(await banner.textContent()).toBe('Connecting to Desk admin… Until it connects, orders go to the local simulation.');
    expect(await badge.textContent()).toBe('SIMULATION'); // true: the hub has not switched yet

    // the hub gives up: offline, in words, with a way to connect again
    await until(() => banner.getAttribute('data-state'), (s) => s === 'offline', RESUME_MS + 10_000, 'the offline banner');
    expect(await banner.locator('span').textContent()).toBe(
      `Offline — The stored session could not be read within ${RESUME_MS / 1000} s (is the keychain locked?): connect again.`,
    );
    expect(await menu.inputValue()).toBe(adminId);
    expect(await connection.getAttribute('data-state')).toBe('offline');

    // the keychain answers now; Retry connects
    credentials.answer();
    await banner.getByRole('button', { name: 'Retry' }).click();
    await waitConnected(page, 20_000);
    await until(() => badge.textContent(), (t) => t === 'FIRM · Desk Test Exchange', 10_000, 'the firm badge');
    expect(await banner.count()).toBe(0);

    await menu.selectOption('local');
    await until(() => badge.textContent(), (t) => t === 'SIMULATION', 15_000, 'back to the simulation');
    await waitConnected(page, 15_000);
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });
});
