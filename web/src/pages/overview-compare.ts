// The overview's comparison: the last 28 computed days (ending yesterday: today is not
// computed yet) against the 28 before, from one seller series with compare=PREVIOUS. Totals
// and changes are the API's (exact strings, its rounding); the page only formats them.

import { getJson } from "../api";
import { errorNode } from "../context";
import { figure, h } from "../dom";
import { addDays, addDecimals, formatCount, formatDay, formatDuration, formatKrw, formatPercent, formatRpm, type Lang } from "../format";
import { t } from "../i18n";
import { sparkline } from "../sparkline";
import type { FigureChange, StatsPoint, StatsSeries } from "../types";

export const DAYS = 28;

/** The range the overview compares: the 28 days ending the day before `today`. */
export function last28(today: string): { from: string; to: string } {
  return { from: addDays(today, -DAYS), to: addDays(today, -1) };
}

export function fetchComparison(seller: string, today: string): Promise<StatsSeries> {
  const { from, to } = last28(today);
  return getJson<StatsSeries>(`/v1/sellers/${encodeURIComponent(seller)}/stats?period=DAILY&from=${from}&to=${to}&compare=PREVIOUS`);
}

type Figure = "views" | "watch_time_sec" | "revenue" | "rpm";

/** A figure of a point as the exact API string (revenue: video + ad, summed exactly); "" for
 * none (no point, or an RPM without views). */
function exactOf(point: StatsPoint | undefined, name: Figure): string {
  if (!point) return "";
  if (name === "revenue") return addDecimals(point.video_revenue, point.ad_revenue);
  return point[name];
}

/** A day's value for the sparkline (a drawing needs numbers; the cards keep the exact strings). */
function plotted(point: StatsPoint, name: Figure): number {
  const exact = exactOf(point, name);
  return exact === "" ? 0 : Number(exact);
}

function shown(exact: string, name: Figure, lang: Lang): string {
  if (exact === "") return "—";
  if (name === "views") return formatCount(exact);
  if (name === "watch_time_sec") return formatDuration(exact, lang);
  if (name === "rpm") return formatRpm(exact);
  return formatKrw(exact);
}

const LABELS: Record<Figure, () => string> = {
  views: () => t("overview.views"),
  watch_time_sec: () => t("overview.watchTime"),
  revenue: () => t("overview.revenue"),
  rpm: () => t("overview.rpm"),
};

function changeNode(change: FigureChange | undefined, name: Figure): HTMLElement {
  const percent = change?.percent ?? "";
  const direction = percent === "new" || (percent && !percent.startsWith("-") && percent !== "0.0") ? "up" : percent.startsWith("-") ? "down" : "flat";
  return h(
    "span",
    { class: `change ${direction}`, "data-testid": `compare-${name}-change`, "data-exact": percent, "data-absolute": change?.absolute ?? "" },
    percent ? formatPercent(percent, t("compare.new")) : "",
  );
}

/** The section: one card per figure (the range's total, its change, a sparkline of both ranges). */
export function comparisonSection(series: StatsSeries, lang: Lang): HTMLElement {
  const totals = series.totals;
  const comparison = series.comparison;
  const earlier = comparison?.points ?? [];
  const changes = new Map((comparison?.changes ?? []).map((c) => [c.figure ?? "", c]));
  const cards = (["views", "watch_time_sec", "revenue", "rpm"] as const).map((name) => {
    const exact = exactOf(totals, name);
    return h(
      "div",
      { class: "card figure" },
      h("dt", {}, LABELS[name]()),
      h(
        "dd",
        {},
        figure("span", shown(exact, name, lang), exact, { class: "value", "data-testid": `compare-${name}` }),
        " ",
        changeNode(changes.get(name), name),
        sparkline(
          (series.points ?? []).map((p) => plotted(p, name)),
          earlier.map((p) => plotted(p, name)),
          LABELS[name](),
          `sparkline-${name}`,
        ),
      ),
    );
  });
  const first = series.points?.[0]?.period_start ?? "";
  const last = series.points?.[series.points.length - 1]?.period_end ?? "";
  const note = t("overview.last28Note", {
    from: formatDay(first, lang),
    to: formatDay(last, lang),
    earlierFrom: formatDay(earlier[0]?.period_start ?? "", lang),
    earlierTo: formatDay(earlier[earlier.length - 1]?.period_end ?? "", lang),
  });
  return h(
    "section",
    { "aria-labelledby": "compare-title", "data-testid": "overview-compare" },
    h("h2", { id: "compare-title" }, t("overview.last28")),
    h("dl", { class: "cards" }, ...cards),
    h("p", { class: "note" }, note),
  );
}

/** The section, or the API's error in its place. */
export function comparisonOrError(outcome: { ok: true; value: StatsSeries } | { ok: false; error: unknown }, lang: Lang): HTMLElement {
  if (outcome.ok) return comparisonSection(outcome.value, lang);
  return h("section", { "data-testid": "overview-compare" }, h("h2", {}, t("overview.last28")), errorNode(outcome.error));
}
