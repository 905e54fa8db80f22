/**
 * Draws the app icon (a rounded dark tile with three candlesticks) and writes the PNGs electron-builder
 * needs: build/icon.png (1024×1024; it derives the macOS .icns and the Windows .ico from it) and
 * build/icons/<size>x<size>.png for Linux. Pure Node (zlib), no image tools: `npx tsx build/make-icons.ts`.
 * The SVG beside it (build/icon.svg) is the same drawing for people and docs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

type RGBA = [number, number, number, number];
const BG_TOP: RGBA = [24, 32, 48, 255];
const BG_BOTTOM: RGBA = [12, 16, 26, 255];
const UP: RGBA = [38, 194, 129, 255];
const DOWN: RGBA = [239, 83, 80, 255];

/** Shapes in a 1×1 unit square. */
interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  color: RGBA;
}
const CANDLES: Box[] = [];
const candle = (cx: number, wickTop: number, bodyTop: number, bodyBottom: number, wickBottom: number, color: RGBA): void => {
  CANDLES.push({ x0: cx - 0.012, y0: wickTop, x1: cx + 0.012, y1: wickBottom, color });
  CANDLES.push({ x0: cx - 0.065, y0: bodyTop, x1: cx + 0.065, y1: bodyBottom, color });
};
candle(0.3, 0.34, 0.44, 0.68, 0.76, UP);
candle(0.5, 0.22, 0.3, 0.52, 0.62, DOWN);
candle(0.7, 0.18, 0.24, 0.46, 0.54, UP);

function insideTile(x: number, y: number): boolean {
  const m = 0.06; // margin
  const r = 0.2; // corner radius
  if (x < m || x > 1 - m || y < m || y > 1 - m) return false;
  const cx = Math.min(Math.max(x, m + r), 1 - m - r);
  const cy = Math.min(Math.max(y, m + r), 1 - m - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function sample(x: number, y: number): RGBA {
  if (!insideTile(x, y)) return [0, 0, 0, 0];
  for (const b of CANDLES) if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) return b.color;
  const t = y;
  return [0, 1, 2, 3].map((i) => Math.round(BG_TOP[i]! * (1 - t) + BG_BOTTOM[i]! * t)) as RGBA;
}

function render(size: number, ss = 3): Buffer {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let py = 0; py < size; py++) {
    raw[py * (size * 4 + 1)] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const c = sample((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size);
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const o = py * (size * 4 + 1) + 1 + px * 4;
      raw[o] = a === 0 ? 0 : Math.round(r / a);
      raw[o + 1] = a === 0 ? 0 : Math.round(g / a);
      raw[o + 2] = a === 0 ? 0 : Math.round(b / a);
      raw[o + 3] = Math.round(a / (ss * ss));
    }
  }
  return raw;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

export function png(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(render(size), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function main(): void {
  writeFileSync('build/icon.png', png(1024));
  mkdirSync('build/icons', { recursive: true });
  for (const s of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(`build/icons/${s}x${s}.png`, png(s));
  console.log('wrote build/icon.png and build/icons/*.png');
}

main();
