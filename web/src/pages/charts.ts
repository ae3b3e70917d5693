import type { Chart } from "chart.js";
import { getJson } from "../api";
import { drawChart } from "../chart";
import type { PageContext } from "../context";
import { field, figure, h, select, table, videoLink } from "../dom";
import { addDays, addDecimals, dayIn, formatClock, formatCount, formatDay, formatKrw, formatPercent, formatPeriod, formatPeriodShort, formatRpm, periodState, wholeWon } from "../format";
import { t } from "../i18n";
import type { SeriesComparison, StatsPoint, StatsSeries, Video } from "../types";
import { dayField, dayInput } from "../day-input";
import { adjustmentsBeside } from "./chart-adjustments";

export type Metric = "views" | "watch" | "revenue";
interface ChartState {
  seller: string;
  period: string;
  from: string;
  to: string;
  video: string;
  metric: Metric;
  type: "line" | "bar";
  compare: "" | "PREVIOUS" | "YEAR_AGO";
}

let state: ChartState | null = null;
let chart: Chart | null = null;

/** The value plotted for a point (a chart needs numbers; the table keeps the exact strings). */
export function metricValue(point: StatsPoint, metric: Metric): number {
  if (metric === "views") return Number(point.views);
  if (metric === "watch") return Math.round((Number(point.watch_time_sec) / 3600) * 100) / 100;
  return Number(wholeWon(addDecimals(point.video_revenue, point.ad_revenue)));
}

export async function sellerVideos(seller: string): Promise<Video[]> {
  const videos: Video[] = [];
  let token = "";
  for (let page = 0; page < 50; page++) {
    const answer = await getJson<{ videos: Video[]; next_page_token: string }>(
      `/v1/sellers/${encodeURIComponent(seller)}/videos?page_size=500${token ? `&page_token=${encodeURIComponent(token)}` : ""}`,
    );
    videos.push(...answer.videos);
    token = answer.next_page_token;
    if (!token) break;
  }
  return videos;
}

/** The values a chart plots: null (a gap, not a zero) for a period not computed yet. */
export function plottedValues(points: StatsPoint[], metric: Metric, dataThrough: string): (number | null)[] {
  return points.map((p) => (periodState(p.period_start, p.period_end, dataThrough) === "pending" ? null : metricValue(p, metric)));
}

function pointRow(point: StatsPoint, period: string, ctx: PageContext, dataThrough: string): HTMLTableRowElement {
  const state = periodState(point.period_start, point.period_end, dataThrough);
  const label = formatPeriod(period, point.period_start, point.period_end, ctx.lang);
  return h(
    "tr",
    { "data-testid": "chart-row", "data-period-start": point.period_start, "data-state": state, class: state === "done" ? null : "pending" },
    h(
      "th",
      { scope: "row" },
      state === "pending" ? `${label} · ${t("pending.label")}` : state === "partial" ? t("pending.partial", { value: label }) : label,
    ),
    figure("td", formatCount(point.views), point.views, { "data-field": "views" }),
    figure("td", formatClock(point.watch_time_sec), point.watch_time_sec, { "data-field": "watch_time_sec" }),
    figure("td", formatCount(point.ad_views), point.ad_views, { "data-field": "ad_views" }),
    figure("td", formatKrw(point.video_revenue), point.video_revenue, { "data-field": "video_revenue" }),
    figure("td", formatKrw(point.ad_revenue), point.ad_revenue, { "data-field": "ad_revenue" }),
    figure("td", formatRpm(point.rpm), point.rpm, { "data-field": "rpm" }),
  );
}

// The comparison table's rows: the figures a seller compares, as the API names them.
const COMPARED = ["views", "watch_time_sec", "ad_views", "revenue", "rpm"] as const;

function comparedValue(point: StatsPoint | undefined, name: (typeof COMPARED)[number]): string {
  if (!point) return "";
  return name === "revenue" ? addDecimals(point.video_revenue, point.ad_revenue) : point[name];
}

function comparedText(exact: string, name: (typeof COMPARED)[number]): string {
  if (name === "views" || name === "ad_views") return formatCount(exact || "0");
  if (name === "watch_time_sec") return formatClock(exact || "0");
  return name === "rpm" ? formatRpm(exact) : formatKrw(exact || "0");
}

/** The totals of both ranges and the API's change of each figure (exact strings). */
function comparisonTable(series: StatsSeries, comparison: SeriesComparison): HTMLElement {
  const changes = new Map(comparison.changes.map((c) => [c.figure, c]));
  const rows = COMPARED.map((name) => {
    const before = comparedValue(comparison.totals, name);
    const now = comparedValue(series.totals, name);
    const change = changes.get(name);
    return h(
      "tr",
      { "data-testid": "compare-row", "data-figure": name },
      h("th", { scope: "row" }, t(`field.${name}` as "field.views")),
      figure("td", comparedText(before, name), before, { "data-field": "earlier" }),
      figure("td", comparedText(now, name), now, { "data-field": "current" }),
      figure("td", change?.absolute ?? "", change?.absolute, { "data-field": "absolute" }),
      figure("td", change ? formatPercent(change.percent, t("compare.new")) : "", change?.percent, { "data-field": "percent" }),
    );
  });
  const headers = ["figure", "earlier", "current", "change", "percent"].map((f) => t(`field.${f}` as "field.views"));
  return table("compare-table", t("charts.compareTable"), headers, rows);
}

// The rows of the exclusions table: playbacks, views, then each rule strongest first.
const EXCLUSIONS = ["plays", "views", "self_view", "overlap", "stream_limit", "repeat", "cap"] as const;

/** Per rule, the playbacks it kept from being a view over the range (exact: BigInt sums). */
export function exclusionTotals(points: StatsPoint[]): Record<(typeof EXCLUSIONS)[number], string> {
  const total = (pick: (p: StatsPoint) => string) => points.reduce((sum, p) => sum + BigInt(pick(p) || "0"), 0n).toString();
  return {
    plays: total((p) => p.plays),
    views: total((p) => p.views),
    self_view: total((p) => p.excluded_self_view),
    overlap: total((p) => p.excluded_overlap),
    stream_limit: total((p) => p.excluded_stream_limit),
    repeat: total((p) => p.excluded_repeat),
    cap: total((p) => p.excluded_cap),
  };
}

export function exclusionsTable(points: StatsPoint[]): HTMLElement {
  const totals = exclusionTotals(points);
  const rows = EXCLUSIONS.map((rule) =>
    h(
      "tr",
      { "data-testid": "exclusion-row", "data-rule": rule },
      h("th", { scope: "row" }, t(`rule.${rule}` as "rule.plays")),
      figure("td", formatCount(totals[rule]), totals[rule], { "data-field": "count" }),
    ),
  );
  return h(
    "section",
    {},
    table("exclusions-table", t("charts.exclusions"), [t("field.rule"), t("field.count")], rows),
    h("p", { class: "note" }, t("charts.exclusionsNote")),
  );
}

/** Draws the series on the canvas in place of `previous`, the compared range's values overlaid
 * (dashed) when the API sent a comparison. */
export function redrawSeries(previous: Chart | null, canvas: HTMLCanvasElement, type: "line" | "bar", series: StatsSeries, period: string, metric: Metric, ctx: PageContext): Chart {
  previous?.destroy();
  const comparison = series.comparison;
  const labels = series.points.map((p) => formatPeriodShort(period, p.period_start, ctx.lang));
  const label = { views: t("metric.views"), watch: t("metric.watchTime"), revenue: t("metric.revenue") }[metric];
  const earlier = comparison
    ? { label: `${label} · ${t(`compare.${comparison.compare}` as "compare.PREVIOUS")}`, values: comparison.points.map((p) => metricValue(p, metric)) }
    : undefined;
  return drawChart(canvas, type, labels, { label, values: plottedValues(series.points, metric, series.data_through) }, ctx.locale, earlier);
}

/** The series' day of data, its comparison (when asked) and its table, a row a period. */
export function seriesResults(series: StatsSeries, period: string, ctx: PageContext): { dataThrough: HTMLElement; compared: HTMLElement[]; table: HTMLElement } {
  const comparison = series.comparison;
  const headers = ["period_start", "views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue", "rpm"].map((f) => t(`field.${f}` as "field.views"));
  return {
    dataThrough: h("p", { class: "note" }, t("overview.dataThrough"), ": ", figure("span", formatDay(series.data_through, ctx.lang), series.data_through, { "data-testid": "chart-data-through" })),
    compared: comparison ? [comparisonTable(series, comparison), h("p", { class: "note" }, t("charts.compareNote"))] : [],
    table: table("chart-table", t("charts.table"), headers, series.points.map((p) => pointRow(p, period, ctx, series.data_through))),
  };
}

export async function chartsPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  if (!state || state.seller !== ctx.sellerId) {
    state = { seller: ctx.sellerId, period: "DAILY", from: addDays(today, -29), to: today, video: "", metric: "views", type: "line", compare: "" };
  }
  const videos = await sellerVideos(ctx.sellerId);
  const s = state;
  const period = select("chart-period", "chart-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const from = dayInput("chart-from", "chart-from", s.from, ctx.lang, true);
  const to = dayInput("chart-to", "chart-to", s.to, ctx.lang, true);
  const video = select("chart-video", "chart-video", [["", t("charts.allVideos")], ...videos.map((v): [string, string] => [v.video_id, `${v.title} (${v.video_id})`])], s.video);
  const metric = select("chart-metric", "chart-metric", [["views", t("metric.views")], ["watch", t("metric.watchTime")], ["revenue", t("metric.revenue")]], s.metric);
  const type = select("chart-type", "chart-type", [["line", t("charts.line")], ["bar", t("charts.bar")]], s.type);
  const compare = select(
    "chart-compare",
    "chart-compare",
    [["", t("compare.none")], ["PREVIOUS", t("compare.PREVIOUS")], ["YEAR_AGO", t("compare.YEAR_AGO")]],
    s.compare,
  );
  const apply = h("button", { type: "submit", "data-testid": "chart-apply" }, t("common.apply"));
  const canvas = h("canvas", { "data-testid": "chart-canvas", role: "img", "aria-label": t("charts.title") });
  const results = h("div", { class: "results" });
  const form = h(
    "form",
    { class: "controls" },
    field(t("common.period"), period),
    dayField(t("common.from"), from),
    dayField(t("common.to"), to),
    field(t("charts.video"), video),
    field(t("charts.metric"), metric),
    field(t("charts.type"), type),
    field(t("charts.compare"), compare),
    apply,
  );
  ctx.show(h("h1", {}, t("charts.title")), form, h("div", { class: "chart-box" }, canvas), results);

  await ctx.query(form, results, async () => {
    Object.assign(s, {
      period: period.value,
      from: from.day(),
      to: to.day(),
      video: video.value,
      metric: metric.value as Metric,
      type: type.value as "line" | "bar",
      compare: compare.value as ChartState["compare"],
    });
    const query = `period=${s.period}&from=${s.from}&to=${s.to}${s.compare ? `&compare=${s.compare}` : ""}`;
    const path = s.video
      ? `/v1/videos/${encodeURIComponent(s.video)}/stats?${query}`
      : `/v1/sellers/${encodeURIComponent(ctx.sellerId)}/stats?${query}`;
    const series = await getJson<StatsSeries>(path);
    if (ctx.current()) chart = redrawSeries(chart, canvas, s.type, series, s.period, s.metric, ctx);
    const parts = seriesResults(series, s.period, ctx);
    return [
      parts.dataThrough,
      h("p", { class: "note", "data-testid": "chart-pending-note" }, t("pending.note", { through: formatDay(series.data_through, ctx.lang) || t("common.none") })),
      s.video ? h("p", {}, videoLink(s.video, t("video.open"))) : "",
      ...parts.compared,
      parts.table,
      ...(s.period === "MONTHLY" && !s.video ? [await adjustmentsBeside(ctx.sellerId, series.points, ctx.lang)] : []),
      exclusionsTable(series.points),
    ];
  });
}
