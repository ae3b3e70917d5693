// #/tables: the dated tier tables and tax tables, and scheduling a new one of each (a date
// after today and after the last closed month: a closed month is never restated).

import { ApiError, getJson } from "../../api";
import type { PageContext } from "../../context";
import { field, h, input, table } from "../../dom";
import { addDays, dayIn, formatDay } from "../../format";
import { t } from "../../i18n";
import type { TaxTable, TierTable } from "../../types";
import { parseTiers, tiersText } from "./helpers";
import { financeError, headers, keyedAction, outcome, textCell } from "./ui";

const TAX_FIELDS = ["income_tax_rate", "local_income_tax_rate", "vat_rate", "withholding_minimum_krw", "income_tax_unit_krw", "local_income_tax_unit_krw", "vat_unit_krw", "platform_business_number"] as const;

function tierRows(ctx: PageContext, tables: TierTable[]): HTMLTableRowElement[] {
  return tables.flatMap((tt) =>
    (["video", "ad"] as const).flatMap((kind) =>
      (tt[kind] ?? []).map((tier) =>
        h(
          "tr",
          { "data-testid": "tier-row", "data-key": `${tt.effective_from}/${kind}/${tier.lower_bound}` },
          textCell("effective_from", formatDay(tt.effective_from, ctx.lang), tt.effective_from),
          textCell("kind", t(`fin.tier.${kind}`), kind),
          textCell("lower_bound", tier.lower_bound),
          textCell("unit_price", tier.unit_price),
        ),
      ),
    ),
  );
}

function taxRow(ctx: PageContext, tt: TaxTable): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "tax-row", "data-key": tt.effective_from },
    textCell("effective_from", formatDay(tt.effective_from, ctx.lang), tt.effective_from),
    ...TAX_FIELDS.map((f) => textCell(f, tt[f] || "–", tt[f])),
  );
}

export async function tablesPage(ctx: PageContext): Promise<void> {
  const tomorrow = addDays(dayIn(ctx.config.time_zone, new Date()), 1);
  const tierList = h("section", { class: "results" });
  const taxList = h("section", { class: "results" });
  const tierFrom = input("tier-effective-from", "tier-effective-from", "date", tomorrow, { required: true });
  const video = input("tier-video", "tier-video", "text", "", { required: true, "aria-describedby": "tier-help" });
  const ad = input("tier-ad", "tier-ad", "text", "", { required: true, "aria-describedby": "tier-help" });
  const tierSubmit = h("button", { type: "submit", "data-testid": "tier-submit" }, t("fin.schedule"));
  const tierOut = outcome("tier-outcome");
  const tierForm = h("form", { class: "controls" }, field(t("fin.effective_from"), tierFrom), field(t("fin.tier.video"), video), field(t("fin.tier.ad"), ad), tierSubmit);
  const taxFrom = input("tax-effective-from", "tax-effective-from", "date", tomorrow, { required: true });
  const taxInputs = TAX_FIELDS.map((f) => input(`tax-${f}`, `tax-${f}`, "text", "", { inputmode: f.endsWith("_rate") || f.endsWith("_krw") ? "decimal" : "numeric" }));
  const taxSubmit = h("button", { type: "submit", "data-testid": "tax-submit" }, t("fin.schedule"));
  const taxOut = outcome("tax-outcome");
  const taxForm = h("form", { class: "controls" }, field(t("fin.effective_from"), taxFrom), ...TAX_FIELDS.map((f, i) => field(t(`fin.${f}`), taxInputs[i])), taxSubmit);

  const reload = async () => {
    const [tiers, taxes] = await Promise.all([getJson<{ tables: TierTable[] }>("/v1/settlement/tier-tables"), getJson<{ tables: TaxTable[] }>("/v1/settlement/tax-tables")]);
    const tierTables = tiers.tables ?? [];
    const taxTables = taxes.tables ?? [];
    tierList.replaceChildren(table("tier-tables", t("fin.tierTables"), headers("effective_from", "kind", "lower_bound", "unit_price"), tierRows(ctx, tierTables)));
    taxList.replaceChildren(table("tax-tables", t("fin.taxTables"), headers("effective_from", ...TAX_FIELDS), taxTables.map((tt) => taxRow(ctx, tt))));
    // The forms start from the table in force last: a new one usually changes one value.
    const lastTier = tierTables[tierTables.length - 1];
    if (lastTier && !video.value) video.value = tiersText(lastTier.video ?? []);
    if (lastTier && !ad.value) ad.value = tiersText(lastTier.ad ?? []);
    const lastTax = taxTables[taxTables.length - 1];
    if (lastTax) TAX_FIELDS.forEach((f, i) => (taxInputs[i].value ||= lastTax[f] ?? ""));
  };
  // A pair that does not parse is refused here as the API refuses bad input (a 400).
  const tiersOf = (control: HTMLInputElement, name: string) => {
    try {
      return parseTiers(control.value);
    } catch (error) {
      throw new ApiError(400, `${name}: ${(error as Error).message}`);
    }
  };
  tierForm.addEventListener("submit", (event) => event.preventDefault());
  taxForm.addEventListener("submit", (event) => event.preventDefault());
  keyedAction<TierTable>(tierSubmit, tierOut, () => ({ path: "/v1/settlement/tier-tables", body: { effective_from: tierFrom.value, video: tiersOf(video, "video"), ad: tiersOf(ad, "ad") } }), async (answer) => {
    await reload();
    tierOut.replaceChildren(h("p", { "data-testid": "tier-done" }, t("fin.scheduled", { date: formatDay(answer.effective_from, ctx.lang) })));
  });
  keyedAction<TaxTable>(taxSubmit, taxOut, () => ({ path: "/v1/settlement/tax-tables", body: { effective_from: taxFrom.value, ...Object.fromEntries(TAX_FIELDS.map((f, i) => [f, taxInputs[i].value.trim()])) } }), async (answer) => {
    await reload();
    taxOut.replaceChildren(h("p", { "data-testid": "tax-done" }, t("fin.scheduled", { date: formatDay(answer.effective_from, ctx.lang) })));
  });
  ctx.show(
    h("h1", {}, t("fin.tablesTitle")),
    h("section", { class: "card" }, h("h2", {}, t("fin.scheduleTier")), h("p", { class: "note", id: "tier-help" }, t("fin.tierHelp")), tierForm, tierOut),
    tierList,
    h("section", { class: "card" }, h("h2", {}, t("fin.scheduleTax")), taxForm, taxOut),
    taxList,
  );
  ctx.loading();
  try {
    await reload();
  } catch (error) {
    if ((error as { status?: number }).status === 403) throw error;
    tierList.replaceChildren(financeError(error));
  }
  ctx.loaded();
}
