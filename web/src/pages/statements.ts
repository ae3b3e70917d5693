import { getJson } from "../api";
import type { PageContext } from "../context";
import { card, field, figure, h, select, table, videoLink } from "../dom";
import { dayIn, formatCount, formatDay, formatKrw, formatMonth, formatPeriod, formatTimestamp } from "../format";
import { t, tEnum } from "../i18n";
import type { Statement, StatementLine } from "../types";
import { dayField, dayInput } from "../day-input";
import { estimateNote } from "./estimate";

let state: { seller: string; period: string; date: string } | null = null;

const LINE_FIELDS: (keyof StatementLine)[] = ["video_id", "title", "views", "ad_views", "video_revenue", "ad_revenue", "amount"];
const MONEY = new Set<keyof StatementLine>(["video_revenue", "ad_revenue", "amount"]);
const COUNTS = new Set<keyof StatementLine>(["views", "ad_views"]);

function lineRow(line: StatementLine): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "statement-line", "data-video-id": line.video_id },
    ...LINE_FIELDS.map((f) => {
      const exact = line[f];
      const text = MONEY.has(f) ? formatKrw(exact) : COUNTS.has(f) ? formatCount(exact) : f === "title" ? videoLink(line.video_id, exact) : exact;
      return figure("td", text, exact, { "data-field": f });
    }),
  );
}

export function statementCsvName(seller: string, period: string, date: string): string {
  return `statement-${seller}-${period}-${date}.csv`;
}

export async function statementsPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  if (!state || state.seller !== ctx.sellerId) state = { seller: ctx.sellerId, period: "MONTHLY", date: today };
  const s = state;
  const period = select("statement-period", "statement-period", ["DAILY", "WEEKLY", "MONTHLY"].map((p) => [p, t(`period.${p}` as "period.DAILY")]), s.period);
  const date = dayInput("statement-date", "statement-date", s.date, ctx.lang, true);
  const apply = h("button", { type: "submit", "data-testid": "statement-apply" }, t("common.apply"));
  const csv = h("button", { type: "button", "data-testid": "statement-csv" }, t("statements.csv"));
  const form = h("form", { class: "controls" }, field(t("common.period"), period), dayField(t("common.date"), date), apply, csv);
  const results = h("div", { class: "results" });
  ctx.show(h("h1", {}, t("statements.title")), form, results);
  const query = () => `period=${s.period}&date=${s.date}`;
  const seller = encodeURIComponent(ctx.sellerId);

  ctx.csvButton(csv, results, () => ({
    path: `/v1/sellers/${seller}/settlements:csv?period=${period.value}&date=${date.day()}`,
    filename: statementCsvName(ctx.sellerId, period.value, date.day()),
  }));
  await ctx.query(form, results, async () => {
    Object.assign(s, { period: period.value, date: date.day() });
    const st = await getJson<Statement>(`/v1/sellers/${seller}/settlements?${query()}`);
    const headers = LINE_FIELDS.map((f) => t(`field.${f}` as "field.views"));
    const adjustments = st.adjustments ?? [];
    return [
      h(
        "p",
        { class: "subtitle" },
        formatPeriod(st.period || s.period, st.period_start, st.period_end, ctx.lang),
        " · ",
        t("overview.dataThrough"),
        " ",
        formatDay(st.data_through, ctx.lang),
        st.closed_at ? ` · ${formatTimestamp(st.closed_at, ctx.config.time_zone, ctx.lang)}` : "",
      ),
      estimateNote(st, ctx.lang),
      h(
        "dl",
        { class: "cards" },
        card(t("statements.total"), figure("dd", formatKrw(st.total), st.total, { "data-testid": "statement-total" })),
        card(t("statements.payable"), figure("dd", formatKrw(st.payable_krw), st.payable_krw, { "data-testid": "statement-payable" })),
        card(t("statements.status"), figure("dd", tEnum("statement", st.status), st.status, { "data-testid": "statement-status" })),
      ),
      table("statement-lines", t("statements.lines"), headers, st.lines.map(lineRow)),
      adjustments.length
        ? table(
            "statement-adjustments",
            t("statements.adjustments"),
            ["original_month", "video_id", "title", "amount"].map((f) => t(`field.${f}` as "field.amount")),
            adjustments.map((a) =>
              h(
                "tr",
                { "data-testid": "statement-adjustment", "data-video-id": a.video_id },
                figure("td", formatMonth(a.original_month, ctx.lang), a.original_month, { "data-field": "original_month" }),
                figure("td", a.video_id, a.video_id, { "data-field": "video_id" }),
                figure("td", videoLink(a.video_id, a.title), a.title, { "data-field": "title" }),
                figure("td", formatKrw(a.amount), a.amount, { "data-field": "amount" }),
              ),
            ),
          )
        : "",
    ];
  });
}
