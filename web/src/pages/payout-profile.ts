// #/sellers/{id}/profile: the seller's payout profile (validation errors under their fields;
// the account number comes back masked and is never put back in the form), the tax breakdown
// of each payout, and the yearly tax summary as CSV (DESIGN 2b).

import { ApiError, getJson, sendJson } from "../api";
import type { PageContext } from "../context";
import { field, h, input, select, table } from "../dom";
import { dayIn, formatMonth } from "../format";
import { t, tEnum } from "../i18n";
import type { Payout, PayoutProfile } from "../types";
import { breakdownButton, payoutTaxCells } from "./finance/breakdown";
import { errorField, IdempotencyKeys } from "./finance/helpers";
import { financeError, headers, outcome, textCell } from "./finance/ui";

const PROFILE_FIELDS = ["legal_name", "tax_type", "bank_code", "account_number", "business_number"] as const;
const PAYOUT_FIELDS = ["payout_id", "month", "status", "tax_type", "gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw", "actions"];

export function taxSummaryName(seller: string, year: string): string {
  return `tax-summary-${seller}-${year}.csv`;
}

async function loadProfile(seller: string): Promise<PayoutProfile | null> {
  try {
    return await getJson<PayoutProfile>(`/v1/sellers/${seller}/payout-profile`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null; // none set yet
    throw error;
  }
}

function payoutRows(ctx: PageContext, payouts: Payout[], detail: HTMLElement): HTMLTableRowElement[] {
  return payouts.map((p) => {
    return h(
      "tr",
      { "data-testid": "seller-payout-row", "data-payout-id": p.payout_id },
      textCell("payout_id", p.payout_id),
      textCell("month", formatMonth(p.month, ctx.lang), p.month),
      ...payoutTaxCells(p),
      h("td", { "data-field": "actions", "data-exact": "" }, breakdownButton(ctx, p, detail)),
    );
  });
}

export async function payoutProfilePage(ctx: PageContext): Promise<void> {
  const seller = encodeURIComponent(ctx.sellerId);
  const [profile, payouts] = await Promise.all([loadProfile(seller), getJson<{ payouts: Payout[] }>(`/v1/sellers/${seller}/payouts`)]);
  const controls = {
    legal_name: input("profile-legal_name", "profile-legal_name", "text", profile?.legal_name ?? "", { maxlength: 100, autocomplete: "name" }),
    tax_type: select("profile-tax_type", "profile-tax_type", ["INDIVIDUAL", "BUSINESS"].map((v) => [v, tEnum("taxType", v)]), profile?.tax_type === "BUSINESS" ? "BUSINESS" : "INDIVIDUAL"),
    bank_code: input("profile-bank_code", "profile-bank_code", "text", profile?.bank_code ?? "", { inputmode: "numeric", maxlength: 3 }),
    account_number: input("profile-account_number", "profile-account_number", "text", "", { inputmode: "numeric", autocomplete: "off" }),
    business_number: input("profile-business_number", "profile-business_number", "text", profile?.business_number ?? "", { inputmode: "numeric" }),
  };
  const problems = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, h("p", { id: `profile-${f}-error`, class: "error field-error", "data-testid": `profile-${f}-error` })])) as Record<string, HTMLElement>;
  const fields = PROFILE_FIELDS.map((f) => {
    controls[f].setAttribute("aria-describedby", `profile-${f}-error`);
    const block = field(t(`fin.${f}`), controls[f]);
    block.append(problems[f]);
    return block;
  });
  const masked = h("p", { class: "note", "data-testid": "profile-masked" }, profile ? t("fin.accountMasked", { masked: profile.account_number }) : t("fin.noProfile"));
  const save = h("button", { type: "submit", "data-testid": "profile-save" }, t("fin.save"));
  const form = h("form", { class: "controls", novalidate: true }, ...fields, save);
  const out = outcome("profile-outcome");
  const keys = new IdempotencyKeys();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren();
    for (const f of PROFILE_FIELDS) {
      problems[f].textContent = "";
      controls[f].removeAttribute("aria-invalid");
    }
    const body = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, controls[f].value.trim()]));
    if (body.tax_type === "INDIVIDUAL") body.business_number = "";
    save.disabled = true;
    try {
      const saved = await sendJson<PayoutProfile>("PUT", `/v1/sellers/${seller}/payout-profile`, body, { "Idempotency-Key": keys.keyFor(JSON.stringify(body)) });
      keys.succeeded();
      controls.account_number.value = "";
      masked.textContent = t("fin.accountMasked", { masked: saved.account_number });
      out.replaceChildren(h("p", { "data-testid": "profile-saved" }, t("fin.profileSaved", { released: String((saved.released ?? []).length) })));
    } catch (error) {
      const named = error instanceof ApiError && error.status === 400 ? errorField(error.message, PROFILE_FIELDS) : null;
      if (named) {
        problems[named.field].textContent = t("fin.fieldProblem", { problem: named.text });
        controls[named.field as (typeof PROFILE_FIELDS)[number]].setAttribute("aria-invalid", "true");
        controls[named.field as (typeof PROFILE_FIELDS)[number]].focus();
      } else if (!(error instanceof ApiError && error.status === 401)) out.replaceChildren(financeError(error));
    } finally {
      save.disabled = false;
    }
  });

  const thisYear = dayIn(ctx.config.time_zone, new Date()).slice(0, 4);
  const year = input("tax-summary-year", "tax-summary-year", "number", thisYear, { min: 2000, max: 9999, step: 1 });
  const csv = h("button", { type: "button", "data-testid": "tax-summary-csv" }, t("fin.taxSummaryCsv"));
  const csvOut = outcome("tax-summary-outcome");
  ctx.csvButton(csv, csvOut, () => ({ path: `/v1/sellers/${seller}/tax-summary:csv?year=${encodeURIComponent(year.value)}`, filename: taxSummaryName(ctx.sellerId, year.value) }));
  const detail = h("div", { "data-testid": "payout-detail" });
  ctx.show(
    h("h1", {}, t("fin.profileTitle")),
    h("section", { class: "card" }, h("h2", {}, t("fin.profile")), masked, form, out),
    h("section", { class: "results" }, table("seller-payouts", t("fin.taxOfPayouts"), headers(...PAYOUT_FIELDS), payoutRows(ctx, payouts.payouts ?? [], detail)), detail),
    h("section", { class: "card" }, h("h2", {}, t("fin.taxSummary")), h("div", { class: "controls" }, field(t("fin.year"), year), csv), csvOut),
  );
}
