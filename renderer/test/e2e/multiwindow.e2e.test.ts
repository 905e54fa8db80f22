/**
 * Multi-window and link groups against the headless host (the desktop's hub under plain Node, served to
 * Chromium): a panel pops out into its own browser window and docks back; panels in the same colour keep
 * their symbol in step across windows through the hub; a named layout restores its pop-outs where they were.
 * A picture of a workspace with a linked pop-out chart goes to a temp folder, or to
 * $TRADEDESK_SCREENSHOTS (e.g. docs/screenshots) when set.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../main/src/credentials/store.js';
import { startHeadlessHost, type HeadlessHost } from '../../../main/src/host/headless.js';
import { launch, openPage, realProblems, type WatchedPage } from './browser.js';
import { REPO, rendererBuild } from './build.js';
import { PASSWORD, TestExchange } from './exchange.js';
import { SIM_START, attrAll, pickSymbol, signIn, until, waitConnected } from './ui.js';

const SHOTS = process.env['TRADEDESK_SCREENSHOTS'] !== undefined ? resolve(REPO, process.env['TRADEDESK_SCREENSHOTS']) : mkdtempSync(join(tmpdir(), 'td-shots-'));

let host: HeadlessHost;
let dataDir: string;
let browser: Browser;
let w: WatchedPage;
let page: Page;
let symbols: string[] = [];
const popProblems: string[] = [];

const panel = (p: Page, kind: string) => p.locator(`section.panel[data-panel=${kind}]`);
const chip = (p: Page, kind: string) => panel(p, kind).getByTestId('link-chip');
const chartSymbol = (p: Page) => panel(p, 'chart').locator('.toolbar .sym').textContent();
const activeRow = (p: Page) => p.locator('[data-testid=watchlist] tr[aria-selected=true]').getAttribute('data-symbol');

/** Clicks the pop-out button of a panel and returns its new window, connected. */
async function popOut(kind: string): Promise<Page> {
  const [pop] = await Promise.all([page.waitForEvent('popup'), panel(page, kind).getByTestId('pop-out').click()]);
  watch(pop);
  await waitConnected(pop);
  return pop;
}

function watch(p: Page): void {
  p.on('pageerror', (e) => popProblems.push(`pageerror: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error') popProblems.push(`console: ${m.text()}`);
  });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = rendererBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'td-mw-'));
  host = await startHeadlessHost({ userDataDir: dataDir, rendererDir: dir, credentials: new MemoryStore(), seed: 7, simStart: SIM_START });
  browser = await launch();
  w = await openPage(browser, host.url);
  page = w.page;
  await waitConnected(page);
  await page.locator('[data-testid=watchlist] tbody tr').nth(3).waitFor();
  symbols = (await attrAll(page.locator('[data-testid=watchlist] tbody tr'), 'data-symbol')).slice(0, 4);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('pop-out windows and link groups', () => {
  let chartPop: Page;

  it('a red chart popped into its own window follows the red watchlist in the workspace; unlinked panels do not', async () => {
    const [a, b] = symbols as [string, string];
    await pickSymbol(page, a); // unlinked: the whole window follows
    await chip(page, 'watchlist').selectOption('red');
    await chip(page, 'chart').selectOption('red');
    expect(await chip(page, 'chart').getAttribute('data-link')).toBe('red');

    chartPop = await popOut('chart');
    // The pop-out shows only the chart, full window, with the connection state and the SIMULATION badge.
    expect(await chartPop.locator('section.panel').count()).toBe(1);
    expect(await chartPop.getByTestId('mode-badge').first().textContent()).toBe('SIMULATION');
    expect(await chip(chartPop, 'chart').getAttribute('data-link')).toBe('red');
    await until(() => chartSymbol(chartPop), (s) => s === a, 10_000, `pop-out chart on ${a}`);
    // The workspace no longer has it in the grid, and lists it as popped out (its window open).
    expect(await panel(page, 'chart').count()).toBe(0);
    await page.locator('[data-testid=popped-bar] [data-popped][data-kind=chart][data-open=true]').waitFor();

    // A symbol picked in the red watchlist reaches the red chart in the other window (through the hub).
    await page.locator(`[data-testid=watchlist] tr[data-symbol="${b}"]`).click();
    await until(() => chartSymbol(chartPop), (s) => s === b, 10_000, `pop-out chart following to ${b}`);
    // The hub holds the red group's symbol (what every window of the desktop or the host follows).
    expect(host.core.links.get().groups.red?.symbol).toBe(b);
    // The ticket is in no group: it stays on the window's own symbol.
    expect(await page.locator('#t-symbol').inputValue()).toBe(a);
  });

  it('vice versa: a symbol typed in a red ticket in another window moves the workspace watchlist and the other pop-out', async () => {
    const c = symbols[2]!;
    await chip(page, 'ticket').selectOption('red');
    const ticketPop = await popOut('ticket');
    expect(await ticketPop.locator('[data-testid=ticket] [data-testid=mode-badge]').textContent()).toBe('SIMULATION');
    await ticketPop.fill('#t-symbol', c);
    await until(() => activeRow(page), (s) => s === c, 10_000, `workspace watchlist selecting ${c}`);
    await until(() => chartSymbol(chartPop), (s) => s === c, 10_000, `pop-out chart following to ${c}`);

    // Dock the ticket back from its own window: the window closes, the workspace has the ticket again.
    await Promise.all([ticketPop.waitForEvent('close'), ticketPop.getByTestId('dock-back').click()]);
    await panel(page, 'ticket').waitFor();
    expect(await page.locator('#t-symbol').inputValue()).toBe(c);
    expect(await chip(page, 'ticket').getAttribute('data-link')).toBe('red');
    expect(await page.locator('[data-testid=popped-bar] [data-kind=ticket]').count()).toBe(0);
  });

  it('a picture of the workspace with its linked pop-out chart', async () => {
    await until(() => panel(chartPop, 'chart').locator('canvas').count(), (n) => n > 0, 10_000, 'the pop-out chart drawn');
    await chartPop.setViewportSize({ width: 900, height: 560 });
    await page.waitForTimeout(400); // let both canvases paint at their sizes
    const main = (await page.screenshot()).toString('base64');
    const pop = (await chartPop.screenshot()).toString('base64');
    const desk = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await desk.setContent(`<body style="margin:0;background:#05070a">
      <img src="data:image/png;base64,${main}" style="position:absolute;left:0;top:0;width:1600px;height:900px">
      <div style="position:absolute;left:640px;top:250px;width:900px;border-radius:8px;overflow:hidden;box-shadow:0 24px 80px rgba(0,0,0,.75),0 0 0 1px #3a4350">
        <div style="height:26px;background:#262c36;color:#c9d1db;font:12px system-ui;display:flex;align-items:center;padding-left:12px">Chart — TradeDesk (pop-out window)</div>
        <img src="data:image/png;base64,${pop}" style="display:block;width:900px;height:560px">
      </div></body>`);
    await desk.screenshot({ path: join(SHOTS, 'multiwindow-linked-popout.png') });
    await desk.close();
  });

  it('docks a pop-out back from the workspace: its window closes and it returns to its place', async () => {
    const closed = chartPop.waitForEvent('close');
    await page.getByRole('button', { name: 'Dock Chart back' }).click();
    await closed;
    await panel(page, 'chart').waitFor();
    // Back in its column, above the blotter, still red and on the group's symbol.
    const column = page.locator('.ws-col', { has: page.locator('section[data-panel=blotter]') });
    expect(await column.locator('section.panel').first().getAttribute('data-panel')).toBe('chart');
    expect(await chip(page, 'chart').getAttribute('data-link')).toBe('red');
    expect(await chartSymbol(page)).toBe(symbols[2]);
    expect(await page.getByTestId('popped-bar').count()).toBe(0);
  });

  it('a saved named layout restores its pop-outs where they were (and pop-outs persist with the layout across a reload)', async () => {
    await page.selectOption('select[aria-label="Add panel"]', 'layouts');
    const layouts = page.getByTestId('layouts');
    await layouts.waitFor();
    chartPop = await popOut('chart');
    // Move and resize the pop-out: the workspace's layout records where it is (the pop-out polls its place).
    await chartPop.evaluate('window.resizeTo(560, 380); window.moveTo(150, 110)');
    const where = async (p: Page) => (await p.evaluate('[screenX, screenY, outerWidth, outerHeight, innerWidth, innerHeight]')) as number[];
    const moved = await until(() => where(chartPop), (b) => b[0] === 150 && b[2] === 560 && b[3] === 380, 5000, 'the pop-out moved and resized');
    const savedBounds = async () =>
      (JSON.parse(((await page.evaluate("localStorage.getItem('tradedesk.layout.v1')")) as string | null) ?? '{}') as { popouts?: { bounds?: Record<string, number> }[] }).popouts?.[0]?.bounds;
    const recorded = await until(savedBounds, (b) => b !== undefined && b['x'] === moved[0] && b['width'] === moved[2] && b['height'] === moved[3], 10_000, 'the pop-out\'s bounds in the layout');
    expect(recorded).toEqual({ x: moved[0], y: moved[1], width: moved[2], height: moved[3], innerWidth: moved[4], innerHeight: moved[5] });
    await layouts.getByLabel('Layout name').fill('Two screens');
    await layouts.getByRole('button', { name: 'Save layout' }).click();
    await layouts.locator('tr[data-layout="Two screens"]').waitFor();

    // Back to one window...
    const closed = chartPop.waitForEvent('close');
    await page.getByRole('button', { name: 'Dock Chart back' }).click();
    await closed;
    await panel(page, 'chart').waitFor();

    // ...then restore: the chart leaves the grid and opens in its own window again, still red, where it was.
    await page.evaluate(`(() => {
      const open = window.open;
      window.__features = [];
      window.open = function (url, name, features) {
        window.__features.push(features);
        return open.call(window, url, name, features);
      };
    })()`);
    const [restored] = await Promise.all([page.waitForEvent('popup'), layouts.locator('tr[data-layout="Two screens"]').getByRole('button', { name: 'Restore' }).click()]);
    watch(restored);
    expect(await page.evaluate('window.__features')).toEqual([`popup,width=${recorded!['innerWidth']},height=${recorded!['innerHeight']},left=${recorded!['x']},top=${recorded!['y']}`]);
    await waitConnected(restored);
    // Its size is the recorded one (headless Chromium keeps a window inside its small virtual screen, so the
    // position is checked in the features above).
    const [, , , , iw, ih] = await where(restored);
    expect([iw, ih]).toEqual([recorded!['innerWidth'], recorded!['innerHeight']]);
    await until(() => chartSymbol(restored), (s) => s === symbols[2], 10_000, 'restored pop-out chart on the group symbol');
    expect(await chip(restored, 'chart').getAttribute('data-link')).toBe('red');
    expect(await panel(page, 'chart').count()).toBe(0);
    await page.locator('[data-testid=popped-bar] [data-kind=chart][data-open=true]').waitFor();

    // The workspace remembers the pop-out after a reload (and still knows its window is open).
    await page.reload();
    await waitConnected(page);
    await page.locator('[data-testid=popped-bar] [data-kind=chart][data-open=true]').waitFor();
    expect(await panel(page, 'chart').count()).toBe(0);
    const saved = JSON.parse(((await page.evaluate("localStorage.getItem('tradedesk.layout.v1')")) as string | null) ?? '{}') as { popouts?: { kind: string }[] };
    expect(saved.popouts?.map((p) => p.kind)).toEqual(['chart']);

    // And it still follows the red group.
    const d = symbols[3]!;
    await page.locator(`[data-testid=watchlist] tr[data-symbol="${d}"]`).click();
    await until(() => chartSymbol(restored), (s) => s === d, 10_000, `restored pop-out following to ${d}`);
    chartPop = restored;
  });

  it('red charts can share the interval too (a toggle), and the pop-out keeps its params in the layout', async () => {
    const tfOn = async (p: Page) => ((await panel(p, 'chart').locator('[role=group][aria-label=Timeframe] button[aria-pressed=true]').textContent()) ?? '').toLowerCase();
    const pickTf = (p: Page, tf: string) => panel(p, 'chart').locator('[role=group][aria-label=Timeframe]').getByRole('button', { name: new RegExp(`^${tf}$`, 'i') }).click();
    await page.selectOption('select[aria-label="Add panel"]', 'chart');
    await chip(page, 'chart').selectOption('red');
    await until(() => chartSymbol(page), (s) => s === symbols[3], 10_000, 'the new red chart on the group symbol');
    // Without the toggle each chart keeps its own interval.
    await pickTf(page, '5m');
    await until(() => tfOn(page), (t) => t === '5m', 5000, 'workspace chart on 5m');
    expect(await tfOn(chartPop)).toBe('1m');
    // With it, an interval picked in the workspace reaches the red chart in the other window.
    await panel(page, 'chart').getByTestId('link-interval').click();
    await panel(chartPop, 'chart').locator('[data-testid=link-interval][aria-pressed=true]').waitFor();
    await pickTf(page, '15m');
    await until(() => tfOn(chartPop), (t) => t === '15m', 10_000, 'pop-out chart following to 15m');
    // And back: an interval picked in the pop-out reaches the workspace chart...
    await pickTf(chartPop, '1h');
    await until(() => tfOn(page), (t) => t === '1h', 10_000, 'workspace chart following to 1h');
    // ...and the pop-out reported its own new params: the workspace's saved layout has them.
    await until(
      async () => JSON.parse(((await page.evaluate("localStorage.getItem('tradedesk.layout.v1')")) as string | null) ?? '{}') as { popouts?: { params: { timeframe?: string } }[] },
      (l) => l.popouts?.[0]?.params.timeframe === '1h',
      5000,
      'the popped chart\'s interval saved with the layout',
    );
    // Closing the window (not docking) leaves the panel popped out, ready to open again.
    await chartPop.close();
    await page.locator('[data-testid=popped-bar] [data-kind=chart][data-open=false]').waitFor();
  });

  describe('straight to an exchange server (no hub): the tabs of the origin link over a BroadcastChannel', () => {
    let ex: TestExchange;
    beforeAll(async () => {
      ex = new TestExchange(rendererBuild());
      await ex.start();
      await ex.setup();
      await ex.trader('carol', 1_000_000);
    }, 60_000);
    afterAll(async () => {
      await ex?.dispose();
    });

    it('a red pop-out chart (signed in on its own: tokens stay in memory) follows the red watchlist, then docks back', async () => {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 850 } });
      try {
        const desk = await ctx.newPage();
        watch(desk);
        await desk.goto(`${ex.url}/`);
        await signIn(desk, 'carol', PASSWORD);
        await waitConnected(desk);
        const rows = desk.locator('[data-testid=watchlist] tbody tr');
        await rows.nth(1).waitFor();
        const [first, second] = (await attrAll(rows, 'data-symbol')) as [string, string];
        await rows.first().click();
        await chip(desk, 'watchlist').selectOption('green');
        await chip(desk, 'chart').selectOption('green');
        const [pop] = await Promise.all([desk.waitForEvent('popup'), panel(desk, 'chart').getByTestId('pop-out').click()]);
        watch(pop);
        expect(new URL(pop.url()).searchParams.get('panel')).toBe('chart');
        await signIn(pop, 'carol', PASSWORD);
        await waitConnected(pop);
        expect(await pop.getByTestId('mode-badge').first().textContent()).toBe('FIRM · Desk Test Exchange');
        await until(() => chartSymbol(pop), (s) => s === first, 10_000, `pop-out chart on ${first}`);
        await desk.locator(`[data-testid=watchlist] tr[data-symbol="${second}"]`).click();
        await until(() => chartSymbol(pop), (s) => s === second, 10_000, `pop-out chart following to ${second} over the BroadcastChannel`);
        await Promise.all([pop.waitForEvent('close'), pop.getByTestId('dock-back').click()]);
        await panel(desk, 'chart').waitFor();
        expect(await chartSymbol(desk)).toBe(second);
      } finally {
        await ctx.close();
      }
    });
  });

  it('raised no page errors in any window', () => {
    expect(realProblems(w.problems)).toEqual([]);
    expect(realProblems(popProblems)).toEqual([]);
  });
});
