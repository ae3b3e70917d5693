import { getJson } from "../api";
import type { PageContext } from "../context";
import { field, figure, h, select, table, videoLink } from "../dom";
import { dayIn, formatClock, formatCount, formatDay, formatPeriod, periodState } from "../format";
import { t } from "../i18n";
import type { TopVideos } from "../types";
import { dayField, dayInput } from "../day-input";

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

/** The day to open on instead when the asked period has no computed day yet (the current
 * week on a Monday, today): the last computed day; "" when the period has one, or none is. */
export function lastComputedDay(top: Pick<TopVideos, "period_start" | "period_end" | "data_through">): string {
  return periodState(top.period_start, top.period_end, top.data_through) === "pending" ? top.data_through : "";
}

export async function topPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  // A fresh page opens on the last computed period (below), not on today's empty one.
  let opening = !state || state.seller !== ctx.sellerId;
  if (!state || state.seller !== ctx.sellerId) state = { seller: ctx.sellerId, period: "WEEKLY", date: today };
  const s = state;
  const period = select("top-period", "top-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const date = dayInput("top-date", "top-date", s.date, ctx.lang, true);
  const apply = h("button", { type: "submit", "data-testid": "top-apply" }, t("common.apply"));
  const form = h("form", { class: "controls" }, field(t("common.period"), period), dayField(t("common.date"), date), apply);
  const results = h("div", { class: "results" });
  ctx.show(h("h1", {}, t("top.title")), form, results);

  await ctx.query(form, results, async () => {
    Object.assign(s, { period: period.value, date: date.day() });
    const both = (day: string) => {
      const base = `/v1/sellers/${encodeURIComponent(ctx.sellerId)}/top-videos?period=${s.period}&date=${day}`;
      return Promise.all([getJson<TopVideos>(`${base}&metric=VIEWS`), getJson<TopVideos>(`${base}&metric=WATCH_TIME`)]);
    };
    let [byViews, byWatch] = await both(s.date);
    const moved = opening && lastComputedDay(byViews);
    opening = false;
    if (moved) {
      s.date = moved;
      date.set(moved);
      [byViews, byWatch] = await both(moved);
    }
    const range = formatPeriod(byViews.period || s.period, byViews.period_start, byViews.period_end, ctx.lang);
    return [
      h("p", { class: "subtitle" }, t("top.range", { range, through: formatDay(byViews.data_through, ctx.lang) })),
      moved ? h("p", { class: "note", "data-testid": "top-opened" }, t("top.opened")) : "",
      h("div", { class: "two" }, topTable("top-views", t("top.byViews"), byViews), topTable("top-watch-time", t("top.byWatchTime"), byWatch)),
    ];
  });
}
