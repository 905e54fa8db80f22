/** Chart colours from the page's CSS variables, so the chart follows the dark/light theme. */
export interface ChartColors {
  bg: string;
  text: string;
  grid: string;
  border: string;
  up: string;
  down: string;
  upVol: string;
  downVol: string;
  buy: string;
  sell: string;
  position: string;
  crosshair: string;
}

export function chartColors(el: Element = document.documentElement): ChartColors {
  const s = getComputedStyle(el);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    bg: v('--panel', '#131722'),
    text: v('--muted', '#8b95a5'),
    grid: v('--grid', '#1e2430'),
    border: v('--border', '#2a313c'),
    up: v('--up', '#26a69a'),
    down: v('--down', '#ef5350'),
    upVol: v('--up-vol', 'rgba(38,166,154,0.35)'),
    downVol: v('--down-vol', 'rgba(239,83,80,0.35)'),
    buy: v('--buy', '#2f81f7'),
    sell: v('--sell', '#ef5350'),
    position: v('--warn', '#f0b429'),
    crosshair: v('--muted', '#8b95a5'),
  };
}
