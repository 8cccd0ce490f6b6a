/**
 * Small, dependency-free SVG charts for bench/RESULTS.md and the docs: a
 * line chart on log-log axes (wait cost against the number of fds) and a
 * horizontal bar chart (one figure per server). Plain SVG 1.1 that GitHub
 * renders inline; no scripts, no external fonts.
 */

/** One line of a {@link lineChart}: its name and its points. */
export interface Series {
  name: string;
  points: Array<[x: number, y: number]>;
  /** Drawn dashed (e.g. the C reference). */
  dashed?: boolean;
  /** A CSS color; by default the next of a fixed palette. */
  color?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** Powers of ten from below `lo` to above `hi`. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/** A line chart with logarithmic x and y axes. */
export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const W = 720;
  const H = 420;
  const L = 80;
  const R = 200;
  const T = 40;
  const B = 60;
  const all = opts.series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  const xs = decades(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const ys = decades(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])));
  const lx = (x: number): number => L + ((Math.log10(x) - Math.log10(xs[0])) / (Math.log10(xs.at(-1)!) - Math.log10(xs[0]))) * (W - L - R);
  const ly = (y: number): number => H - B - ((Math.log10(y) - Math.log10(ys[0])) / (Math.log10(ys.at(-1)!) - Math.log10(ys[0]))) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2 - R / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(opts.title)}</text>`);
  for (const x of xs) {
    parts.push(`<line x1="${lx(x)}" y1="${T}" x2="${lx(x)}" y2="${H - B}" stroke="#ddd"/>`);
    parts.push(`<text x="${lx(x)}" y="${H - B + 18}" text-anchor="middle" font-size="12">${fmt(x)}</text>`);
  }
  for (const y of ys) {
    parts.push(`<line x1="${L}" y1="${ly(y)}" x2="${W - R}" y2="${ly(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${ly(y) + 4}" text-anchor="end" font-size="12">${fmt(y)}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 16}" text-anchor="middle" font-size="13">${esc(opts.xLabel)}</text>`);
  parts.push(`<text x="18" y="${(T + H - B) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0);
    const d = pts.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${lx(x).toFixed(1)},${ly(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${lx(x).toFixed(1)}" cy="${ly(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ky = T + 10 + i * 20;
    parts.push(`<line x1="${W - R + 16}" y1="${ky}" x2="${W - R + 40}" y2="${ky}" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${W - R + 46}" y="${ky + 4}" font-size="12">${esc(s.name)}</text>`);
  });
  return svg(W, H, parts);
}

/** A horizontal bar chart: one bar per label, the value printed at its end. */
export function barChart(opts: { title: string; unit: string; bars: Array<{ label: string; value: number; highlight?: boolean }> }): string {
  const W = 720;
  const rowH = 26;
  const L = 290;
  const T = 40;
  const H = T + opts.bars.length * rowH + 20;
  const max = Math.max(...opts.bars.map((b) => b.value), 1);
  const parts: string[] = [`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(opts.title)}</text>`];
  opts.bars.forEach((b, i) => {
    const y = T + i * rowH;
    const w = (b.value / max) * (W - L - 110);
    parts.push(`<text x="${L - 8}" y="${y + 17}" text-anchor="end" font-size="12">${esc(b.label)}</text>`);
    parts.push(`<rect x="${L}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${b.highlight === true ? '#d62728' : '#1f77b4'}"/>`);
    parts.push(`<text x="${(L + w + 6).toFixed(1)}" y="${y + 17}" font-size="12">${fmt(b.value)} ${esc(opts.unit)}</text>`);
  });
  return svg(W, H, parts);
}

function svg(w: number, h: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif">\n`
    + `<rect width="${w}" height="${h}" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
