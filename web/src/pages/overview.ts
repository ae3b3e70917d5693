import { getJson } from "../api";
import type { PageContext } from "../context";
import { h, figure } from "../dom";
import { dayIn, formatCount, formatDay, formatDuration, formatKrw, formatMonth } from "../format";
import { t, tEnum } from "../i18n";
import type { Balance, Payout, Statement, StatsSeries } from "../types";

/** The payout a seller waits for: the oldest still pending, else the latest one. */
export function nextPayout(payouts: Payout[]): Payout | null {
  const pending = payouts.filter((p) => p.status === "PENDING");
  if (pending.length) return pending[pending.length - 1]; // the list is newest first
  return payouts[0] ?? null;
}

function card(label: string, value: HTMLElement, note?: string): HTMLElement {
  return h("div", { class: "card figure" }, h("dt", {}, label), value, note ? h("p", { class: "note" }, note) : null);
}

export async function overviewPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  const seller = encodeURIComponent(ctx.sellerId);
  const [statement, series, balance, payouts] = await Promise.all([
    getJson<Statement>(`/v1/sellers/${seller}/settlements?period=MONTHLY&date=${today}`),
    getJson<StatsSeries>(`/v1/sellers/${seller}/stats?period=MONTHLY&from=${today}&to=${today}`),
    getJson<Balance>(`/v1/sellers/${seller}/balance`),
    getJson<{ payouts: Payout[] }>(`/v1/sellers/${seller}/payouts`),
  ]);
  const point = series.points[series.points.length - 1];
  const views = point?.views ?? "0";
  const watch = point?.watch_time_sec ?? "0";
  const payout = nextPayout(payouts.payouts ?? []);
  const lang = ctx.lang;
  ctx.show(
    h("h1", {}, t("overview.title")),
    h("p", { class: "subtitle" }, t("common.seller", { id: ctx.sellerId }), " · ", t("overview.month", { month: formatMonth(today, lang) })),
    h(
      "dl",
      { class: "cards" },
      card(t("overview.views"), figure("dd", formatCount(views), views, { "data-testid": "overview-views" })),
      card(t("overview.watchTime"), figure("dd", formatDuration(watch, lang), watch, { "data-testid": "overview-watch-time" })),
      card(t("overview.earnings"), figure("dd", formatKrw(statement.total), statement.total, { "data-testid": "overview-earnings" }), tEnum("statement", statement.status)),
      card(t("overview.payable"), figure("dd", formatKrw(statement.payable_krw), statement.payable_krw, { "data-testid": "overview-payable" })),
      card(t("overview.dataThrough"), figure("dd", formatDay(statement.data_through, lang), statement.data_through, { "data-testid": "overview-data-through" })),
      card(t("overview.balance"), figure("dd", formatKrw(balance.balance), balance.balance, { "data-testid": "overview-balance" })),
      card(
        t("overview.nextPayout"),
        payout
          ? figure("dd", formatKrw(payout.amount_krw), payout.amount_krw, { "data-testid": "overview-next-payout" })
          : figure("dd", t("overview.noPayout"), "", { "data-testid": "overview-next-payout" }),
        payout ? formatMonth(payout.month, lang) : undefined,
      ),
      card(
        t("overview.nextPayoutStatus"),
        figure("dd", payout ? tEnum("payout", payout.status) : t("common.none"), payout?.status ?? "", { "data-testid": "overview-next-payout-status" }),
      ),
    ),
    h("p", { class: "note" }, t("overview.money")),
  );
}
