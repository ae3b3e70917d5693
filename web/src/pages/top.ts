import { getJson } from "../api";
import type { PageContext } from "../context";
import { field, figure, h, input, select, table, videoLink } from "../dom";
import { dayIn, formatClock, formatCount, formatDay, formatPeriod } from "../format";
import { t } from "../i18n";
import type { TopVideos } from "../types";

let state: { seller: string; period: string; date: string } | null = null;

function topTable(testid: string, caption: string, top: TopVideos): HTMLElement {
  const rows = top.videos.map((v) =>
    h(
      "tr",
      { "data-testid": "top-row", "data-video-id": v.video_id },
      figure("td", String(v.rank), String(v.rank), { "data-field": "rank" }),
      figure("td", videoLink(v.video_id, v.title), v.title, { "data-field": "title" }),
      figure("td", formatCount(v.views), v.views, { "data-field": "views" }),
      figure("td", formatClock(v.watch_time_sec), v.watch_time_sec, { "data-field": "watch_time_sec" }),
    ),
  );
  const headers = ["rank", "title", "views", "watch_time_sec"].map((f) => t(`field.${f}` as "field.rank"));
  return table(testid, caption, headers, rows);
}

export async function topPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  if (!state || state.seller !== ctx.sellerId) state = { seller: ctx.sellerId, period: "WEEKLY", date: today };
  const s = state;
  const period = select("top-period", "top-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const date = input("top-date", "top-date", "date", s.date, { required: true });
  const apply = h("button", { type: "submit", "data-testid": "top-apply" }, t("common.apply"));
  const form = h("form", { class: "controls" }, field(t("common.period"), period), field(t("common.date"), date), apply);
  const results = h("div", { class: "results" });
  ctx.show(h("h1", {}, t("top.title")), form, results);

  await ctx.query(form, results, async () => {
    Object.assign(s, { period: period.value, date: date.value });
    const base = `/v1/sellers/${encodeURIComponent(ctx.sellerId)}/top-videos?period=${s.period}&date=${s.date}`;
    const [byViews, byWatch] = await Promise.all([getJson<TopVideos>(`${base}&metric=VIEWS`), getJson<TopVideos>(`${base}&metric=WATCH_TIME`)]);
    const range = formatPeriod(byViews.period || s.period, byViews.period_start, byViews.period_end, ctx.lang);
    return [
      h("p", { class: "subtitle" }, t("top.range", { range, through: formatDay(byViews.data_through, ctx.lang) })),
      h("div", { class: "two" }, topTable("top-views", t("top.byViews"), byViews), topTable("top-watch-time", t("top.byWatchTime"), byWatch)),
    ];
  });
}
