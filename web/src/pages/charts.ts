import type { Chart } from "chart.js";
import { getJson } from "../api";
import { drawChart } from "../chart";
import type { PageContext } from "../context";
import { field, figure, h, input, select, table } from "../dom";
import { addDays, addDecimals, dayIn, formatClock, formatCount, formatDay, formatKrw, formatPeriod, formatPeriodShort, wholeWon } from "../format";
import { t } from "../i18n";
import type { StatsPoint, StatsSeries, Video } from "../types";

type Metric = "views" | "watch" | "revenue";
interface ChartState {
  seller: string;
  period: string;
  from: string;
  to: string;
  video: string;
  metric: Metric;
  type: "line" | "bar";
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

function pointRow(point: StatsPoint, period: string, ctx: PageContext): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "chart-row", "data-period-start": point.period_start },
    h("th", { scope: "row" }, formatPeriod(period, point.period_start, point.period_end, ctx.lang)),
    figure("td", formatCount(point.views), point.views, { "data-field": "views" }),
    figure("td", formatClock(point.watch_time_sec), point.watch_time_sec, { "data-field": "watch_time_sec" }),
    figure("td", formatCount(point.ad_views), point.ad_views, { "data-field": "ad_views" }),
    figure("td", formatKrw(point.video_revenue), point.video_revenue, { "data-field": "video_revenue" }),
    figure("td", formatKrw(point.ad_revenue), point.ad_revenue, { "data-field": "ad_revenue" }),
  );
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

function exclusionsTable(points: StatsPoint[]): HTMLElement {
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

export async function chartsPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  if (!state || state.seller !== ctx.sellerId) {
    state = { seller: ctx.sellerId, period: "DAILY", from: addDays(today, -29), to: today, video: "", metric: "views", type: "line" };
  }
  const videos = await sellerVideos(ctx.sellerId);
  const s = state;
  const period = select("chart-period", "chart-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const from = input("chart-from", "chart-from", "date", s.from, { required: true });
  const to = input("chart-to", "chart-to", "date", s.to, { required: true });
  const video = select("chart-video", "chart-video", [["", t("charts.allVideos")], ...videos.map((v): [string, string] => [v.video_id, `${v.title} (${v.video_id})`])], s.video);
  const metric = select("chart-metric", "chart-metric", [["views", t("metric.views")], ["watch", t("metric.watchTime")], ["revenue", t("metric.revenue")]], s.metric);
  const type = select("chart-type", "chart-type", [["line", t("charts.line")], ["bar", t("charts.bar")]], s.type);
  const apply = h("button", { type: "submit", "data-testid": "chart-apply" }, t("common.apply"));
  const canvas = h("canvas", { "data-testid": "chart-canvas", role: "img", "aria-label": t("charts.title") });
  const results = h("div", { class: "results" });
  const form = h(
    "form",
    { class: "controls" },
    field(t("common.period"), period),
    field(t("common.from"), from),
    field(t("common.to"), to),
    field(t("charts.video"), video),
    field(t("charts.metric"), metric),
    field(t("charts.type"), type),
    apply,
  );
  ctx.show(h("h1", {}, t("charts.title")), form, h("div", { class: "chart-box" }, canvas), results);

  await ctx.query(form, results, async () => {
    Object.assign(s, { period: period.value, from: from.value, to: to.value, video: video.value, metric: metric.value as Metric, type: type.value as "line" | "bar" });
    const path = s.video
      ? `/v1/videos/${encodeURIComponent(s.video)}/stats?period=${s.period}&from=${s.from}&to=${s.to}`
      : `/v1/sellers/${encodeURIComponent(ctx.sellerId)}/stats?period=${s.period}&from=${s.from}&to=${s.to}`;
    const series = await getJson<StatsSeries>(path);
    if (ctx.current()) {
      chart?.destroy();
      const labels = series.points.map((p) => formatPeriodShort(s.period, p.period_start, ctx.lang));
      const label = { views: t("metric.views"), watch: t("metric.watchTime"), revenue: t("metric.revenue") }[s.metric];
      chart = drawChart(canvas, s.type, labels, { label, values: series.points.map((p) => metricValue(p, s.metric)) }, ctx.locale);
    }
    const headers = ["period_start", "views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue"].map((f) => t(`field.${f}` as "field.views"));
    return [
      h("p", { class: "note" }, t("overview.dataThrough"), ": ", figure("span", formatDay(series.data_through, ctx.lang), series.data_through, { "data-testid": "chart-data-through" })),
      table("chart-table", t("charts.table"), headers, series.points.map((p) => pointRow(p, s.period, ctx))),
      exclusionsTable(series.points),
    ];
  });
}
