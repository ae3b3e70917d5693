import { ApiError, getJson } from "../api";
import { errorNode, isUnknownSeller, type PageContext } from "../context";
import { card, figure, h } from "../dom";
import { dayIn, formatCount, formatDay, formatDuration, formatKrw, formatMonth, formatRpm } from "../format";
import { t, tEnum } from "../i18n";
import { sellerUsername } from "../seller-names";
import type { Balance, Payout, Statement, StatsSeries } from "../types";
import { realtimePanel } from "./realtime";
import { comparisonOrError, fetchComparison } from "./overview-compare";

/** Statuses of a payout not paid yet: HELD (no payout profile), PENDING (awaiting the
 * maker-checker approval), APPROVED (to be paid). */
const WAITING = new Set(["HELD", "PENDING", "APPROVED"]);

/** The payout a seller waits for: the oldest not paid yet, else the latest one. */
export function nextPayout(payouts: Payout[]): Payout | null {
  const pending = payouts.filter((p) => WAITING.has(p.status ?? ""));
  if (pending.length) return pending[pending.length - 1]; // the list is newest first
  return payouts[0] ?? null;
}

/** The seller by name: on its own pages the name it signed in with, for an admin the account's
 * name as the API reads it; by number when that read fails. */
async function sellerName(ctx: PageContext): Promise<string> {
  const own = ctx.session.account_id === ctx.sellerId ? ctx.session.username : undefined;
  const name = own || (await sellerUsername(ctx.session.account_id, ctx.sellerId));
  return name ? t("common.sellerNamed", { name, id: ctx.sellerId }) : t("common.seller", { id: ctx.sellerId });
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function overviewPage(ctx: PageContext): Promise<void> {
  const today = dayIn(ctx.config.time_zone, new Date());
  const seller = encodeURIComponent(ctx.sellerId);
  const [statement, series, balance, payouts, compared, named] = await Promise.all([
    settle(getJson<Statement>(`/v1/sellers/${seller}/settlements?period=MONTHLY&date=${today}`)),
    settle(getJson<StatsSeries>(`/v1/sellers/${seller}/stats?period=MONTHLY&from=${today}&to=${today}`)),
    settle(getJson<Balance>(`/v1/sellers/${seller}/balance`)),
    settle(getJson<{ payouts: Payout[] }>(`/v1/sellers/${seller}/payouts`)),
    settle(fetchComparison(ctx.sellerId, today)),
    sellerName(ctx),
  ]);
  // A refusal (or an expired session) anywhere, or a seller id that names no seller: no data at all.
  for (const outcome of [statement, series, balance, payouts, compared]) {
    if (!outcome.ok && (isUnknownSeller(outcome.error) || (outcome.error instanceof ApiError && (outcome.error.status === 403 || outcome.error.status === 401)))) throw outcome.error;
  }
  const lang = ctx.lang;
  const cards: HTMLElement[] = [];
  const failed = (label: string, error: unknown) => card(label, h("dd", {}, errorNode(error)));

  if (series.ok) {
    const point = series.value.points[series.value.points.length - 1];
    const views = point?.views ?? "0";
    const watch = point?.watch_time_sec ?? "0";
    cards.push(card(t("overview.views"), figure("dd", formatCount(views), views, { "data-testid": "overview-views" })));
    cards.push(card(t("overview.watchTime"), figure("dd", formatDuration(watch, lang), watch, { "data-testid": "overview-watch-time" })));
    cards.push(card(t("overview.rpm"), figure("dd", formatRpm(point?.rpm), point?.rpm || undefined, { "data-testid": "overview-rpm" })));
  } else {
    cards.push(failed(t("overview.views"), series.error), failed(t("overview.watchTime"), series.error));
  }
  if (statement.ok) {
    const st = statement.value;
    cards.push(
      card(t("overview.earnings"), figure("dd", formatKrw(st.total), st.total, { "data-testid": "overview-earnings" }), tEnum("statement", st.status)),
      card(t("overview.payable"), figure("dd", formatKrw(st.payable_krw), st.payable_krw, { "data-testid": "overview-payable" })),
      card(t("overview.dataThrough"), figure("dd", formatDay(st.data_through, lang), st.data_through, { "data-testid": "overview-data-through" })),
    );
  } else {
    cards.push(failed(t("overview.earnings"), statement.error));
  }
  if (balance.ok) {
    cards.push(card(t("overview.balance"), figure("dd", formatKrw(balance.value.balance), balance.value.balance, { "data-testid": "overview-balance" })));
  } else {
    cards.push(failed(t("overview.balance"), balance.error));
  }
  if (payouts.ok) {
    const payout = nextPayout(payouts.value.payouts ?? []);
    cards.push(
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
    );
  } else {
    cards.push(failed(t("overview.nextPayout"), payouts.error));
  }
  ctx.show(
    h("h1", {}, t("overview.title")),
    h("p", { class: "subtitle" }, h("span", { "data-testid": "overview-seller" }, named), " · ", t("overview.month", { month: formatMonth(today, lang) })),
    h("dl", { class: "cards" }, ...cards),
    comparisonOrError(compared, lang),
    h("p", { class: "note" }, t("overview.money")),
    realtimePanel(ctx),
  );
}
