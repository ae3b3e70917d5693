import { getJson } from "../api";
import type { PageContext } from "../context";
import { card, field, figure, h, input, table } from "../dom";
import { dayIn, formatKrw, formatMonth, formatTimestamp, monthsBefore } from "../format";
import { t, tEnum } from "../i18n";
import type { Balance, LedgerEntry, LedgerPage, Payout } from "../types";

let state: { seller: string; from: string; to: string } | null = null;

function cell(fieldName: string, text: string, exact: string | undefined): HTMLElement {
  return figure("td", text, exact, { "data-field": fieldName });
}

function entryRow(e: LedgerEntry, ctx: PageContext): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "ledger-entry", "data-entry-id": e.entry_id },
    cell("entry_id", e.entry_id, e.entry_id),
    cell("kind", tEnum("kind", e.kind), e.kind),
    cell("posted_month", formatMonth(e.posted_month, ctx.lang), e.posted_month),
    cell("original_month", e.original_month ? formatMonth(e.original_month, ctx.lang) : "", e.original_month),
    cell("title", e.title, e.title),
    cell("amount", formatKrw(e.amount), e.amount),
    cell("posted_at", formatTimestamp(e.posted_at, ctx.config.time_zone, ctx.lang), e.posted_at),
  );
}

function payoutRow(p: Payout, ctx: PageContext): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "payout-row", "data-payout-id": p.payout_id },
    cell("payout_id", p.payout_id, p.payout_id),
    cell("month", formatMonth(p.month, ctx.lang), p.month),
    cell("amount_krw", formatKrw(p.amount_krw), p.amount_krw),
    cell("status", tEnum("payout", p.status), p.status),
    cell("reference", p.reference, p.reference),
    cell("created_at", formatTimestamp(p.created_at, ctx.config.time_zone, ctx.lang), p.created_at),
    cell("updated_at", formatTimestamp(p.updated_at, ctx.config.time_zone, ctx.lang), p.updated_at),
  );
}

async function allEntries(seller: string, from: string, to: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let token = "";
  for (let page = 0; page < 100; page++) {
    const answer = await getJson<LedgerPage>(
      `/v1/sellers/${seller}/ledger?from=${from}&to=${to}&page_size=1000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`,
    );
    entries.push(...answer.entries);
    token = answer.next_page_token;
    if (!token) break;
  }
  return entries;
}

export async function ledgerPage(ctx: PageContext): Promise<void> {
  const month = dayIn(ctx.config.time_zone, new Date()).slice(0, 7);
  if (!state || state.seller !== ctx.sellerId) state = { seller: ctx.sellerId, from: monthsBefore(month, 11), to: month };
  const s = state;
  const from = input("ledger-from", "ledger-from", "month", s.from, { required: true, pattern: "\\d{4}-\\d{2}", placeholder: "YYYY-MM" });
  const to = input("ledger-to", "ledger-to", "month", s.to, { required: true, pattern: "\\d{4}-\\d{2}", placeholder: "YYYY-MM" });
  const apply = h("button", { type: "submit", "data-testid": "ledger-apply" }, t("common.apply"));
  const csv = h("button", { type: "button", "data-testid": "ledger-csv" }, t("ledger.csv"));
  const form = h("form", { class: "controls" }, field(t("ledger.from"), from), field(t("ledger.to"), to), apply, csv);
  const results = h("div", { class: "results" });
  ctx.show(h("h1", {}, t("ledger.title")), form, results);
  const seller = encodeURIComponent(ctx.sellerId);

  ctx.csvButton(csv, results, () => ({
    path: `/v1/sellers/${seller}/ledger:csv?from=${from.value}&to=${to.value}`,
    filename: `ledger-${ctx.sellerId}-${from.value}-${to.value}.csv`,
  }));
  await ctx.query(form, results, async () => {
    Object.assign(s, { from: from.value, to: to.value });
    const [balance, entries, payouts] = await Promise.all([
      getJson<Balance>(`/v1/sellers/${seller}/balance`),
      allEntries(seller, s.from, s.to),
      getJson<{ payouts: Payout[] }>(`/v1/sellers/${seller}/payouts`),
    ]);
    const entryHeaders = ["entry_id", "kind", "posted_month", "original_month", "title", "amount", "posted_at"].map((f) => t(`field.${f}` as "field.kind"));
    const payoutHeaders = ["payout_id", "month", "amount_krw", "status", "reference", "created_at", "updated_at"].map((f) => t(`field.${f}` as "field.kind"));
    return [
      h(
        "dl",
        { class: "cards" },
        card(t("ledger.balance"), figure("dd", formatKrw(balance.balance), balance.balance, { "data-testid": "ledger-balance" })),
        card(t("overview.payable"), figure("dd", formatKrw(balance.payable_krw), balance.payable_krw, { "data-testid": "ledger-payable" })),
      ),
      table("ledger-entries", t("ledger.entries"), entryHeaders, entries.map((e) => entryRow(e, ctx))),
      table("payouts", t("ledger.payouts"), payoutHeaders, (payouts.payouts ?? []).map((p) => payoutRow(p, ctx))),
    ];
  });
}
