// The audience retention curve (DESIGN 2c): of the counted views of a range, the share that
// covered each 1% of the video's duration. The API gives 100 counts and the views; the percents
// are computed here exactly (BigInt, no floating point) so that the table and the curve's
// data-values carry the same strings, and the curve is drawn as inline SVG (one path: Chart.js
// would cost a canvas and a layout for a line that never changes).

const SVG = "http://www.w3.org/2000/svg";
export const WIDTH = 400;
export const HEIGHT = 160;

/** The API's answer (int64 counts arrive as JSON strings; numbers are accepted too). */
export interface RetentionAnswer {
  points?: (string | number)[];
  views?: string | number;
}

/** count / views in percent, to one decimal place, rounded half up: "0.0" .. "100.0". */
export function percentOf(count: string | number, views: string | number | bigint): string {
  const total = BigInt(views);
  if (total <= 0n) throw new Error("no views: no percent");
  const tenths = (BigInt(count) * 2000n + total) / (2n * total);
  return `${tenths / 10n}.${tenths % 10n}`;
}

/** The 100 points in percent of the views; none when the range has no views. */
export function retentionPercents(answer: RetentionAnswer): string[] {
  const views = BigInt(answer.views ?? 0);
  if (views === 0n) return [];
  return (answer.points ?? []).map((count) => percentOf(count, views));
}

/** The SVG path of the curve: point i at x = i/(n-1) of the width, 100% at the top. */
export function curvePath(percents: number[], width = WIDTH, height = HEIGHT): string {
  const step = percents.length > 1 ? width / (percents.length - 1) : 0;
  return percents
    .map((percent, i) => {
      const y = height - (Math.min(Math.max(percent, 0), 100) / 100) * height;
      return `${i ? "L" : "M"}${(i * step).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

/** The curve as a labelled image, with grid lines at 0, 50 and 100%; data-values holds the
 * percent strings drawn (for the browser tests, as the charts' canvas does). */
export function retentionCurve(percents: string[], label: string): SVGSVGElement {
  const image = svg("svg", {
    class: "retention",
    viewBox: `-1 -1 ${WIDTH + 2} ${HEIGHT + 2}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label,
    "data-testid": "retention-curve",
    "data-values": JSON.stringify(percents),
  });
  for (const level of [0, 50, 100]) {
    const y = String(HEIGHT - (level / 100) * HEIGHT);
    image.append(svg("line", { class: "grid", x1: "0", x2: String(WIDTH), y1: y, y2: y }));
  }
  image.append(svg("path", { class: "curve", d: curvePath(percents.map(Number)), fill: "none" }));
  return image;
}
