// A video's own page (#/videos/{id}, DESIGN 2c): its series with the comparison overlay, the
// range's ad views, revenue and RPM (the API's exact strings), the playbacks each rule
// excluded, and the audience retention curve. An unknown video (404) and another seller's
// video (403) get a page that says so, in the page's language.

import type { Chart } from "chart.js";
import { ApiError, getJson } from "../api";
import type { PageContext } from "../context";
import { figure, h, input, select, field, table } from "../dom";
import { addDays, addDecimals, dayIn, formatCount, formatDay, formatDuration, formatKrw, formatRpm } from "../format";
import { t } from "../i18n";
import { retentionCurve, retentionPercents } from "../retention";
import type { StatsSeries, Video, VideoRetention } from "../types";
import { exclusionsTable, type Metric, redrawSeries, seriesResults } from "./charts";

interface VideoState {
  video: string;
  period: string;
  from: string;
  to: string;
  metric: Metric;
  compare: "" | "PREVIOUS" | "YEAR_AGO";
}

let state: VideoState | null = null;
let chart: Chart | null = null;

/** The page of a refused or unknown video: a heading and the reason, no figures. */
function refusedPage(ctx: PageContext, videoId: string, error: unknown): boolean {
  if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 403)) return false;
  const notFound = error.status === 404;
  ctx.show(
    h("h1", {}, t("video.heading")),
    h(
      "p",
      { "data-testid": notFound ? "video-not-found" : "refusal", class: notFound ? "error" : "refusal", role: "alert" },
      t(notFound ? "video.notFound" : "video.forbidden", { id: videoId }),
    ),
  );
  return true;
}

/** A figure card of the range's totals; money shown in whole won also shows its exact string
 * under it (a phone has no hover to read the title). */
function totalCard(label: string, text: string, exact: string, testid: string, money = false): HTMLElement {
  const value = figure("span", text, exact || undefined, { class: "value", "data-testid": testid });
  const note = money && exact ? h("small", { class: "note" }, t("video.exact", { value: exact })) : null;
  return h("div", { class: "card figure" }, h("dt", {}, label), h("dd", {}, value, note ? h("br") : null, note));
}

function totalsSection(series: StatsSeries, lang: PageContext["lang"]): HTMLElement {
  const totals = series.totals;
  const revenue = totals ? addDecimals(totals.video_revenue, totals.ad_revenue) : "0";
  return h(
    "section",
    { "aria-labelledby": "video-totals" },
    h("h2", { id: "video-totals" }, t("video.totals")),
    h(
      "dl",
      { class: "cards" },
      totalCard(t("overview.views"), formatCount(totals?.views ?? "0"), totals?.views ?? "0", "video-views"),
      totalCard(t("overview.watchTime"), formatDuration(totals?.watch_time_sec ?? "0", lang), totals?.watch_time_sec ?? "0", "video-watch-time"),
      totalCard(t("field.ad_views"), formatCount(totals?.ad_views ?? "0"), totals?.ad_views ?? "0", "video-ad-views"),
      totalCard(t("overview.revenue"), formatKrw(revenue), revenue, "video-revenue", true),
      totalCard(t("overview.rpm"), formatRpm(totals?.rpm), totals?.rpm ?? "", "video-rpm", true),
    ),
  );
}

const POSITIONS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99];

/** The retention section: the curve and, for exact values without hover, a table every 10%. */
async function retentionSection(videoId: string, from: string, to: string, lang: PageContext["lang"]): Promise<HTMLElement> {
  const section = h("section", { "aria-labelledby": "retention-title", "data-testid": "retention" }, h("h2", { id: "retention-title" }, t("retention.title")));
  let answer: VideoRetention;
  try {
    answer = await getJson<VideoRetention>(`/v1/videos/${encodeURIComponent(videoId)}/retention?from=${from}&to=${to}`);
  } catch (error) {
    // Refusals and unknown videos were answered by the series already: a failure here means
    // the retention API is not there (or not working): the rest of the page stands.
    if (error instanceof ApiError && error.status === 401) throw error;
    section.append(h("p", { class: "note", "data-testid": "retention-unavailable" }, t("retention.unavailable")));
    return section;
  }
  const percents = retentionPercents(answer);
  const views = String(answer.views ?? "0");
  if (!percents.length) {
    section.append(h("p", { class: "note", "data-testid": "retention-empty" }, t("retention.noViews")));
    return section;
  }
  const counts = (answer.points ?? []).map(String);
  const rows = POSITIONS.map((at) =>
    h(
      "tr",
      { "data-testid": "retention-row", "data-position": String(at) },
      h("th", { scope: "row" }, `${at}%`),
      figure("td", `${percents[at]}%`, percents[at], { "data-field": "percent" }),
      figure("td", formatCount(counts[at]), counts[at], { "data-field": "reached" }),
    ),
  );
  section.append(
    h("p", { class: "note" }, t("retention.note", { views: formatCount(views), from: formatDay(from, lang), to: formatDay(to, lang) })),
    h(
      "div",
      { class: "retention-box" },
      h("span", { class: "axis top", "aria-hidden": "true" }, "100%"),
      retentionCurve(percents, t("retention.curve")),
      h("span", { class: "axis bottom", "aria-hidden": "true" }, "0%"),
    ),
    table("retention-table", t("retention.table"), [t("field.position"), t("field.retention"), t("field.reached")], rows),
  );
  section.dataset.views = views;
  return section;
}

export async function videoPage(ctx: PageContext, videoId: string): Promise<void> {
  let video: Video;
  try {
    video = await getJson<Video>(`/v1/videos/${encodeURIComponent(videoId)}`);
  } catch (error) {
    if (refusedPage(ctx, videoId, error)) return;
    throw error;
  }
  const today = dayIn(ctx.config.time_zone, new Date());
  if (!state || state.video !== videoId) {
    // The last 28 computed days (today is not computed yet), as the overview compares them.
    state = { video: videoId, period: "DAILY", from: addDays(today, -28), to: addDays(today, -1), metric: "views", compare: "" };
  }
  const s = state;
  const period = select("video-period", "video-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const from = input("video-from", "video-from", "date", s.from, { required: true });
  const to = input("video-to", "video-to", "date", s.to, { required: true });
  const metric = select("video-metric", "video-metric", [["views", t("metric.views")], ["watch", t("metric.watchTime")], ["revenue", t("metric.revenue")]], s.metric);
  const compare = select("video-compare", "video-compare", [["", t("compare.none")], ["PREVIOUS", t("compare.PREVIOUS")], ["YEAR_AGO", t("compare.YEAR_AGO")]], s.compare);
  const apply = h("button", { type: "submit", "data-testid": "video-apply" }, t("common.apply"));
  const form = h(
    "form",
    { class: "controls" },
    field(t("common.period"), period),
    field(t("common.from"), from),
    field(t("common.to"), to),
    field(t("charts.metric"), metric),
    field(t("charts.compare"), compare),
    apply,
  );
  const canvas = h("canvas", { "data-testid": "chart-canvas", role: "img", "aria-label": t("video.chart") });
  const results = h("div", { class: "results" });
  const subtitle = t("video.subtitle", { id: video.video_id, duration: formatDuration(video.duration_sec, ctx.lang), seller: video.seller_id });
  ctx.show(
    h("h1", { "data-testid": "video-title", "data-video-id": video.video_id }, video.title),
    h("p", { class: "subtitle" }, subtitle),
    form,
    h("div", { class: "chart-box" }, canvas),
    results,
  );

  await ctx.query(form, results, async () => {
    Object.assign(s, { period: period.value, from: from.value, to: to.value, metric: metric.value as Metric, compare: compare.value as VideoState["compare"] });
    const query = `period=${s.period}&from=${s.from}&to=${s.to}${s.compare ? `&compare=${s.compare}` : ""}`;
    // Both at once: the retention call fails alone (it never refuses what the series allowed).
    const retentionPending = retentionSection(videoId, s.from, s.to, ctx.lang);
    let series: StatsSeries;
    try {
      series = await getJson<StatsSeries>(`/v1/videos/${encodeURIComponent(videoId)}/stats?${query}`);
    } catch (error) {
      retentionPending.catch(() => {}); // settled with the series' failure, which the page shows
      if (refusedPage(ctx, videoId, error)) return [];
      throw error;
    }
    if (ctx.current()) chart = redrawSeries(chart, canvas, "line", series, s.period, s.metric, ctx);
    const parts = seriesResults(series, s.period, ctx);
    return [
      parts.dataThrough,
      totalsSection(series, ctx.lang),
      ...parts.compared,
      parts.table,
      exclusionsTable(series.points),
      await retentionPending,
    ];
  });
}
