// A payout's tax breakdown (DESIGN 2b): gross, income tax, local income tax, VAT, net. Shown
// to admins (#/payouts) and to the seller (the payout profile page), whose payout tables share
// the breakdown's cells and the button that opens it.

import { getJson } from "../../api";
import type { PageContext } from "../../context";
import { card, figure, h } from "../../dom";
import { formatKrw, formatMonth, type Lang } from "../../format";
import { t, tEnum } from "../../i18n";
import type { Payout } from "../../types";
import { button, financeError, krwCell, named, textCell } from "./ui";

const PARTS = ["gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw"] as const;

/** The payout's tax type, "" before one is set (the API's unspecified value). */
function taxTypeOf(p: Payout): string {
  return p.tax_type && p.tax_type !== "TAX_TYPE_UNSPECIFIED" ? p.tax_type : "";
}

export function taxBreakdown(p: Payout, lang: Lang): HTMLElement {
  const taxType = taxTypeOf(p);
  return h(
    "section",
    { class: "card", "data-testid": "tax-breakdown", "data-payout-id": p.payout_id },
    h("h2", {}, t("fin.breakdownOf", { id: p.payout_id, month: formatMonth(p.month, lang) })),
    h(
      "dl",
      { class: "cards" },
      card(t("fin.tax_type"), figure("dd", taxType ? tEnum("taxType", taxType) : t("fin.noTaxYet"), taxType, { "data-testid": "breakdown-tax_type" })),
      ...PARTS.map((part) => {
        const exact = p[part];
        return card(t(`fin.${part}`), figure("dd", exact ? formatKrw(exact) : "–", exact || undefined, { "data-testid": `breakdown-${part}` }));
      }),
    ),
  );
}

/** A payout row's status, tax type and tax part cells, in the order both payout tables show them. */
export function payoutTaxCells(p: Payout): HTMLElement[] {
  const taxType = taxTypeOf(p);
  return [
    textCell("status", tEnum("payout", p.status), p.status),
    textCell("tax_type", taxType ? tEnum("taxType", taxType) : "–", taxType),
    ...PARTS.map((part) => krwCell(part, p[part])),
  ];
}

/** The row's button that shows the payout's breakdown in `detail`, read afresh from the API. */
export function breakdownButton(ctx: PageContext, p: Payout, detail: HTMLElement): HTMLButtonElement {
  const show = button("payout-details", t("fin.details"), { "aria-label": named(t("fin.details"), t("fin.payoutN", { id: p.payout_id })), class: "secondary" });
  show.addEventListener("click", async () => {
    try {
      detail.replaceChildren(taxBreakdown(await getJson<Payout>(`/v1/payouts/${encodeURIComponent(p.payout_id)}`), ctx.lang));
    } catch (error) {
      detail.replaceChildren(financeError(error));
    }
  });
  return show;
}
