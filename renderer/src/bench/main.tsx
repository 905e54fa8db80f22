/**
 * The UI bench page (driven by bench/ui.ts in headless Chromium). `?case=chart&bars=N` draws one chart with
 * N bars and reports the time to the first painted frame; `?case=stream&rate=R` runs the whole workstation
 * on a synthetic in-page exchange streaming R quote updates per second and reports frames per second and
 * quotes per second that reached the UI. Results land in `window.__bench`.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from '../App.js';
import { Live, LiveProvider } from '../data/live.js';
import '../panels/index.js';
import { EMPTY_DRAWINGS } from '../power/drawings.js';
import { TradingChart } from '../power/TradingChart.js';
import '../theme/styles.css';
import { PREF, setPref } from '../workspace/prefs.js';
import { createFixture, SYMBOLS, syntheticBars } from './fixture.js';

type Result = Record<string, number | string>;
const w = window as unknown as { __bench?: Result; __benchError?: string };
const q = new URLSearchParams(location.search);
const root = createRoot(document.getElementById('root')!);
const frame = () => new Promise<number>((r) => requestAnimationFrame(r));

async function chartCase(): Promise<void> {
  const n = Number(q.get('bars') ?? '100000');
  const bars = syntheticBars(n);
  // The 100k bars were just allocated: let the collector settle them (idle time) before the clock starts, as
  // history that arrived over the network would be, so the figure is the chart's and not the fixture's.
  await new Promise((r) => setTimeout(r, 400));
  await frame();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    root.render(
      <div style={{ width: '1200px', height: '700px' }} className="chart-host-bench">
        <TradingChart
          symbol="BENCH"
          timeframe="1m"
          book={{ bars, rev: 1, last: 'reset' }}
          tick={1}
          qty={1}
          last={null}
          orders={[]}
          indicators={[]}
          drawings={EMPTY_DRAWINGS}
          onDrawingsChange={() => undefined}
          onPlace={() => undefined}
          onReplace={() => undefined}
          onCancel={() => undefined}
          theme="dark"
          onFirstRender={() => resolve()}
        />
      </div>,
    );
  });
  // lightweight-charts draws in the next animation frame (its callback was queued before ours).
  const t1 = performance.now();
  await frame();
  const t2 = performance.now();
  // data: React mount, the chart built and its data set; paint: the chart's first drawing frame.
  w.__bench = { chartFirstRenderMs: Math.round(t2 - t0), chartDataMs: Math.round(t1 - t0), chartPaintMs: Math.round(t2 - t1), bars: n };
}

async function streamCase(): Promise<void> {
  const rate = Number(q.get('rate') ?? '1000');
  const seconds = Number(q.get('seconds') ?? '5');
  setPref(PREF.watchlist, SYMBOLS);
  setPref(PREF.symbol, SYMBOLS[0]!);
  const fx = createFixture();
  const live = new Live(fx.backend);
  live.start();
  root.render(
    <StrictMode>
      <LiveProvider live={live}>
        <App />
      </LiveProvider>
    </StrictMode>,
  );
  // Let the workspace load its data, then stream and count frames.
  await new Promise((r) => setTimeout(r, 1500));
  fx.stream(rate);
  await new Promise((r) => setTimeout(r, 500));
  const q0 = live.quotesReceived;
  const t0 = performance.now();
  let frames = 0;
  let worst = 0;
  let prev = t0;
  const end = t0 + seconds * 1000;
  for (;;) {
    const t = await frame();
    frames++;
    worst = Math.max(worst, t - prev);
    prev = t;
    if (t >= end) break;
  }
  const el = (performance.now() - t0) / 1000;
  fx.stop();
  w.__bench = {
    fps: Math.round((frames / el) * 10) / 10,
    worstFrameMs: Math.round(worst),
    quotesPerSec: Math.round((live.quotesReceived - q0) / el),
    quotesSentPerSec: rate,
  };
}

(q.get('case') === 'stream' ? streamCase() : chartCase()).catch((e: unknown) => {
  w.__benchError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
});
