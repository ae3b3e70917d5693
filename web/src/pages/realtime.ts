// The overview's live panel: the realtime estimate (GET /v1/sellers/{id}/realtime), read again
// every POLL_MS while the overview is the page shown, so a playback shows within 2 seconds of
// its ingest without a reload. Polling the JSON path (not the WatchRealtime stream): one small
// GET a second through Envoy, the same token and error handling as every other read.

import { getJson } from "../api";
import { errorNode, type PageContext } from "../context";
import { figure, h } from "../dom";
import { addDecimals, formatCount, formatTimestamp } from "../format";
import { t } from "../i18n";
import type { Realtime, RealtimePoint } from "../types";

export const POLL_MS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 240;
const HEIGHT = 40;

function total(points: RealtimePoint[]): string {
  return addDecimals("0", ...points.map((p) => p.playbacks ?? "0"));
}

/** Bars of the per-minute counts (the tallest one full height), an image with its own label. */
export function minuteBars(points: RealtimePoint[], label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "realtime-bars");
  svg.setAttribute("data-testid", "realtime-sparkline");
  const counts = points.map((p) => Number(p.playbacks ?? "0"));
  const top = Math.max(1, ...counts);
  const step = WIDTH / Math.max(1, counts.length);
  counts.forEach((count, i) => {
    const height = count ? Math.max(2, (count / top) * HEIGHT) : 0;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(i * step + 0.5));
    bar.setAttribute("y", String(HEIGHT - height));
    bar.setAttribute("width", String(Math.max(1, step - 1)));
    bar.setAttribute("height", String(height));
    bar.setAttribute("data-count", String(count));
    svg.appendChild(bar);
  });
  return svg;
}

function drawn(ctx: PageContext, figures: Realtime): Node[] {
  const minutes = figures.minutes ?? [];
  const last60 = total(minutes);
  const last48 = total(figures.hours ?? []);
  return [
    h(
      "dl",
      { class: "cards" },
      h("div", { class: "card figure" }, h("dt", {}, t("realtime.last60")), figure("dd", formatCount(last60), last60, { "data-testid": "realtime-60m" })),
      h("div", { class: "card figure" }, h("dt", {}, t("realtime.last48")), figure("dd", formatCount(last48), last48, { "data-testid": "realtime-48h" })),
    ),
    minuteBars(minutes, t("realtime.chart")),
    h("p", { class: "note", "data-testid": "realtime-as-of" }, formatTimestamp(figures.as_of, ctx.config.time_zone, ctx.lang)),
  ];
}

/** The panel, filled now and again every POLL_MS until another page is shown. */
export function realtimePanel(ctx: PageContext): HTMLElement {
  const body = h("div", { "aria-live": "polite" }, t("common.loading"));
  const panel = h(
    "section",
    { class: "realtime", "data-testid": "realtime-panel", "aria-labelledby": "realtime-title" },
    h("h2", { id: "realtime-title" }, t("realtime.title"), " ", h("span", { class: "badge", "data-testid": "realtime-estimated" }, t("realtime.badge"))),
    body,
    h("p", { class: "note" }, t("realtime.note")),
  );
  const path = `/v1/sellers/${encodeURIComponent(ctx.sellerId)}/realtime`;
  const poll = async () => {
    if (!ctx.current()) return; // another page (or another seller's overview) took over
    try {
      const figures = await getJson<Realtime>(path);
      if (ctx.current()) body.replaceChildren(...drawn(ctx, figures));
    } catch (error) {
      if (ctx.current()) body.replaceChildren(errorNode(error));
    }
    if (ctx.current()) setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
  return panel;
}
