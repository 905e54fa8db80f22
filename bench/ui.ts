/**
 * UI bench: figures, never assertions. Runs the renderer's production build in headless Chromium.
 *
 *   chartFirstRenderMs  one chart with 100k one-minute bars: mount to first painted frame (best of 3), split
 *                       into chartDataMs (React mount, chart built, data set) and chartPaintMs (first frame)
 *   fps, worstFrameMs   the whole workstation while 1,000 quote updates/s stream into watchlist and chart
 *                       (synthetic in-page exchange over the real protocol client, Connection and cache)
 *   quotesPerSec        quote updates per second that reached the UI during that run
 *   orderToBlotterMs    local mode (headless host: hub + local venue + simulated market): Enter in the ticket
 *                       to the order's row in the blotter, median of 15 (p90 too)
 *
 *   npm run bench:ui [-- --json] [-- --rate 1000 --bars 100000 --seconds 5]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir, cpus } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { MemoryStore } from '../main/src/credentials/store.js';
import { startHeadlessHost } from '../main/src/host/headless.js';
import { launch } from '../renderer/test/e2e/browser.js';
import { rendererBuild } from '../renderer/test/e2e/build.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const num = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const RATE = num('rate', 1000);
const BARS = num('bars', 100_000);
const SECONDS = num('seconds', 5);
const ORDERS = num('orders', 15);

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(dir)) return void res.writeHead(403).end();
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function result(page: Page, timeoutMs: number): Promise<Record<string, number>> {
  // Strings (not functions) so Node-side types and the bundler's helpers stay out of the page; polled from
  // outside because the page's CSP forbids the eval that waitForFunction would need.
  const end = Date.now() + timeoutMs;
  for (;;) {
    const out = (await page.evaluate('JSON.stringify({ r: window.__bench, e: window.__benchError })')) as string;
    const { r, e } = JSON.parse(out) as { r?: Record<string, number>; e?: string };
    if (e !== undefined) throw new Error(e);
    if (r !== undefined) return r;
    if (Date.now() > end) throw new Error('bench page timed out');
    await page.waitForTimeout(100);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function main(): Promise<void> {
  const dir = rendererBuild();
  const browser = await launch();
  const figures: Record<string, number | string> = {};
  const server = await serve(dir);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // 1. chart first render, 100k bars (best of 3 fresh pages: the first also pays for code loading)
    const runs: Record<string, number>[] = [];
    for (let i = 0; i < 3; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${base}/bench.html?case=chart&bars=${BARS}`);
      runs.push(await result(page, 60_000));
      await ctx.close();
    }
    const best = runs.reduce((a, b) => (b.chartFirstRenderMs! < a.chartFirstRenderMs! ? b : a));
    figures.chartFirstRenderMs = best.chartFirstRenderMs!;
    figures.chartDataMs = best.chartDataMs!;
    figures.chartPaintMs = best.chartPaintMs!;
    figures.chartFirstRenderMsRuns = runs.map((r) => r.chartFirstRenderMs).join('/');
    figures.chartBars = BARS;

    // 2. fps and quotes/s while quotes stream into the watchlist and the chart
    {
      const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${base}/bench.html?case=stream&rate=${RATE}&seconds=${SECONDS}`);
      const r = await result(page, 60_000);
      figures.fps = r.fps!;
      figures.worstFrameMs = r.worstFrameMs!;
      figures.quotesPerSec = r.quotesPerSec!;
      figures.quotesSentPerSec = RATE;
      await ctx.close();
    }
  } finally {
    server.close();
  }

  // 3. order to blotter, local mode through the headless host
  const data = mkdtempSync(join(tmpdir(), 'td-bench-ui-'));
  const host = await startHeadlessHost({ userDataDir: data, rendererDir: dir, credentials: new MemoryStore(), seed: 11 });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(host.url);
    await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 30_000 });
    const first = page.locator('[data-testid=watchlist] tbody tr').first();
    await first.waitFor();
    const symbol = (await first.getAttribute('data-symbol'))!;
    await first.click();
    const inst = host.core.venue.view.instrument(symbol)!;
    const raw = Math.max(inst.bandLow, Math.floor(inst.previousClose * 0.94));
    const px = raw + ((inst.tickSize - (raw % inst.tickSize)) % inst.tickSize);
    await page.getByTestId('ticket').getByLabel('Confirm before sending').uncheck();
    await page.selectOption('#t-type', 'limit');
    await page.fill('#t-qty', String(inst.lotSize));
    await page.fill('#t-price', `${Math.floor(px / 100)}.${String(px % 100).padStart(2, '0')}`);
    const times: number[] = [];
    for (let i = 0; i < ORDERS; i++) {
      await page.locator('#t-qty').focus();
      // Strings, so the bundler's helpers (tsx's __name) do not leak into the page. Arm first, then press.
      await page.evaluate(`window.__orderTiming = new Promise((resolve) => {
        const count = () => document.querySelectorAll('[data-testid=working-row]').length;
        const before = count();
        let t0 = 0;
        document.addEventListener('keydown', (e) => { if (e.key === 'Enter') t0 = performance.now(); }, { capture: true, once: true });
        const mo = new MutationObserver(() => {
          if (t0 > 0 && count() > before) { mo.disconnect(); resolve(performance.now() - t0); }
        });
        mo.observe(document.body, { childList: true, subtree: true });
      }); undefined`);
      await page.keyboard.press('Enter');
      times.push((await page.evaluate('window.__orderTiming')) as number);
      await page.waitForTimeout(100);
    }
    figures.orderToBlotterMs = Math.round(median(times) * 10) / 10;
    figures.orderToBlotterP90Ms = Math.round(pct(times, 90) * 10) / 10;
    await ctx.close();
  } finally {
    await host.close();
    rmSync(data, { recursive: true, force: true });
    await browser.close();
  }

  const [l1, l5, l15] = loadavg();
  figures.load = `${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`;
  figures.cpus = cpus().length;
  if (json) {
    console.log(JSON.stringify(figures));
  } else {
    console.log('UI bench (headless Chromium, production build)');
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(24)} ${v}`);
    console.log('  targets: chartFirstRenderMs <= 300, fps >= 55 at 1,000 quotes/s, orderToBlotterMs <= 50 (local mode)');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
