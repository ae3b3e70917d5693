// A sparkline: a small line of a series and, dashed, the earlier range's, as inline SVG (a few
// hundred bytes per chart; Chart.js would be a canvas and a layout per card for a 120 px line).

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 120;
const HEIGHT = 32;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

/** The polyline points of `values` scaled to the box, with `top` the value drawn at the top. */
export function linePoints(values: number[], top: number): string {
  const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
  return values
    .map((value, i) => {
      const y = top > 0 ? HEIGHT - 1 - (value / top) * (HEIGHT - 2) : HEIGHT - 1;
      return `${(i * step).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/** A labelled image (role="img") of the two lines on a common scale; data-values holds the
 * drawn numbers (JSON), for the browser tests, as the charts' canvas does. */
export function sparkline(values: number[], earlier: number[], label: string, testid: string): SVGSVGElement {
  const top = Math.max(0, ...values, ...earlier);
  const image = svg("svg", {
    class: "sparkline",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: String(WIDTH),
    height: String(HEIGHT),
    role: "img",
    "aria-label": label,
    "data-testid": testid,
    "data-values": JSON.stringify(values),
    "data-earlier-values": JSON.stringify(earlier),
  });
  image.append(
    svg("polyline", { class: "earlier", points: linePoints(earlier, top), fill: "none" }),
    svg("polyline", { class: "current", points: linePoints(values, top), fill: "none" }),
  );
  return image;
}
