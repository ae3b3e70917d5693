// A payout's tax breakdown (DESIGN 2b): gross, income tax, local income tax, VAT, net. Shown
// to admins (#/payouts) and to the seller (the payout profile page).

import { card, figure, h } from "../../dom";
import { formatKrw, formatMonth, type Lang } from "../../format";
import { t, tEnum } from "../../i18n";
import type { Payout } from "../../types";

const PARTS = ["gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw"] as const;

export function taxBreakdown(p: Payout, lang: Lang): HTMLElement {
  const taxType = p.tax_type && p.tax_type !== "TAX_TYPE_UNSPECIFIED" ? p.tax_type : "";
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
