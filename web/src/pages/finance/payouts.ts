// #/payouts: a closed month's payouts filtered by status, marking APPROVED ones PAID or FAILED
// with a reference, each payout's tax breakdown, and the month's bank transfer file.

import { getJson } from "../../api";
import type { PageContext } from "../../context";
import { field, h, input, select, table } from "../../dom";
import { dayIn, formatMonth } from "../../format";
import { t, tEnum } from "../../i18n";
import type { Closing, Payout } from "../../types";
import { breakdownButton, payoutTaxCells } from "./breakdown";
import { bankFileParts, previousMonth, queryOf } from "./helpers";
import { button, financeError, guarded, headers, keyedAction, named, outcome, textCell, timeCell } from "./ui";

const STATUSES = ["HELD", "PENDING", "APPROVED", "PAID", "FAILED"];
const FIELDS = ["payout_id", "seller_id", "status", "tax_type", "gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw", "reference", "updated_at", "actions"];
const PAGE_SIZE = 50;

let state = { month: "", status: "" };

export function bankFileName(month: string, part: string): string {
  return part === "1" ? `transfers-${month}.csv` : `transfers-${month}-part${part}.csv`;
}

function payoutRow(ctx: PageContext, p: Payout, detail: HTMLElement, out: HTMLElement, reload: () => Promise<void>): HTMLTableRowElement {
  const actions = h("td", { "data-field": "actions", "data-exact": p.status }, breakdownButton(ctx, p, detail));
  if (p.status === "APPROVED") {
    const reference = input(`payout-reference-${p.payout_id}`, "payout-reference", "text", "", { "aria-label": t("fin.referenceOf", { id: p.payout_id }), maxlength: 128, size: 14 });
    const mark = (status: "PAID" | "FAILED") => {
      const b = button(`payout-mark-${status.toLowerCase()}`, tEnum("mark", status), { "aria-label": named(tEnum("mark", status), t("fin.payoutN", { id: p.payout_id })) });
      keyedAction<Payout>(b, out, () => ({ path: `/v1/payouts/${encodeURIComponent(p.payout_id)}:mark`, body: { status, reference: reference.value.trim() } }), async (answer) => {
        await reload();
        out.replaceChildren(h("p", { "data-testid": "mark-done" }, t("fin.marked", { id: answer.payout_id, status: tEnum("payout", answer.status) })));
      });
      return b;
    };
    actions.append(" ", reference, " ", mark("PAID"), " ", mark("FAILED"));
  }
  return h(
    "tr",
    { "data-testid": "payout-row", "data-payout-id": p.payout_id },
    textCell("payout_id", p.payout_id),
    textCell("seller_id", p.seller_id),
    ...payoutTaxCells(p),
    textCell("reference", p.reference || "–", p.reference),
    timeCell(ctx, "updated_at", p.updated_at),
    actions,
  );
}

export async function payoutsPage(ctx: PageContext): Promise<void> {
  const closings = (await getJson<{ closings: Closing[] }>("/v1/settlement/closings")).closings ?? [];
  const months = closings.map((c) => c.month).sort().reverse();
  if (!state.month || !months.includes(state.month)) state.month = months[0] ?? previousMonth(dayIn(ctx.config.time_zone, new Date()));
  const month = select("payouts-month", "payouts-month", (months.length ? months : [state.month]).map((m) => [m, formatMonth(m, ctx.lang)]), state.month);
  const status = select("payouts-status", "payouts-status", [["", t("fin.allStatuses")], ...STATUSES.map((s): [string, string] => [s, tEnum("payout", s)])], state.status);
  const apply = h("button", { type: "submit", "data-testid": "payouts-apply" }, t("common.apply"));
  const bankFile = h("button", { type: "button", "data-testid": "bank-file" }, t("fin.bankFile"));
  const part = select("bank-file-part", "bank-file-part", [], "1");
  const sha = h("p", { class: "note hash", "data-testid": "bank-file-sha256" });
  const showParts = () => {
    const closing = closings.find((c) => c.month === month.value);
    part.replaceChildren(...bankFileParts(closing).map((p) => h("option", { value: p }, p)));
    const file = (closing?.transfer_files ?? []).find((f) => String(f.part) === part.value);
    sha.textContent = file ? t("fin.bankFileSha", { part: part.value, sha: file.sha256 }) : "";
  };
  month.addEventListener("change", showParts);
  part.addEventListener("change", showParts);
  showParts();
  const form = h("form", { class: "controls" }, field(t("fin.month"), month), field(t("fin.status"), status), apply, field(t("fin.bankFilePart"), part), bankFile);
  const out = outcome("payouts-outcome");
  const results = h("div", { class: "results" });
  const detail = h("div", { "data-testid": "payout-detail" });
  ctx.show(h("h1", {}, t("fin.payoutsTitle")), form, sha, out, results, detail);
  ctx.csvButton(bankFile, out, () => ({ path: `/v1/settlement/closings/${encodeURIComponent(month.value)}/transfers:csv?part=${part.value}`, filename: bankFileName(month.value, part.value) }));

  const load = async (): Promise<(Node | string)[]> => {
    state = { month: month.value, status: status.value };
    const rows: HTMLTableRowElement[] = [];
    const more = button("payouts-more", t("fin.more"), { class: "secondary" });
    const body = h("div", {});
    const fetchPage = async (token: string) => {
      const path = `/v1/settlement/closings/${encodeURIComponent(state.month)}/payouts${queryOf([["status", state.status], ["page_size", String(PAGE_SIZE)], ["page_token", token]])}`;
      const page = await getJson<{ payouts: Payout[]; next_page_token: string }>(path);
      rows.push(...(page.payouts ?? []).map((p) => payoutRow(ctx, p, detail, out, reload)));
      body.replaceChildren(table("payouts", t("fin.payoutsOf", { month: formatMonth(state.month, ctx.lang) }), headers(...FIELDS), rows));
      more.hidden = !page.next_page_token;
      more.onclick = () => void fetchPage(page.next_page_token).catch((error) => out.replaceChildren(financeError(error)));
    };
    await fetchPage("");
    return [body, more];
  };
  const reload = async () => {
    results.replaceChildren(...(await load()));
  };
  await ctx.query(form, results, guarded(load));
}
