// #/audit: the audit log, filtered (from, to, actor, action) and paged, newest first. Its
// verification is the operator's command (there is no API for it): the page shows it.

import { getJson } from "../../api";
import type { PageContext } from "../../context";
import { field, h, input, table } from "../../dom";
import { t } from "../../i18n";
import type { AuditEntry, AuditPage } from "../../types";
import { queryOf } from "./helpers";
import { button, financeError, guarded, headers, textCell, timeCell } from "./ui";

const PAGE_SIZE = 50;
export const VERIFY_COMMAND = "paysystem audit verify";

function entryRow(ctx: PageContext, e: AuditEntry): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "audit-row", "data-seq": e.seq },
    textCell("seq", e.seq),
    timeCell(ctx, "at", e.at),
    textCell("actor_id", e.actor_id),
    textCell("action", e.action),
    textCell("target", e.target),
    h("td", { "data-field": "before", "data-exact": e.before, class: "json" }, e.before || "–"),
    h("td", { "data-field": "after", "data-exact": e.after, class: "json" }, e.after || "–"),
    textCell("hash", e.hash.slice(0, 12) + "…", e.hash),
  );
}

export async function auditPage(ctx: PageContext): Promise<void> {
  const from = input("audit-from", "audit-from", "date", "");
  const to = input("audit-to", "audit-to", "date", "");
  const actor = input("audit-actor", "audit-actor", "text", "", { inputmode: "numeric", pattern: "\\d*" });
  const action = input("audit-action", "audit-action", "text", "", { list: "audit-actions" });
  const actions = h("datalist", { id: "audit-actions" }, ...["month.close", "payouts.approve", "payout.mark", "tier_table.schedule", "tax_table.schedule", "payout_profile.set", "account.set_role", "account.disable", "batch.run", "month.archive"].map((a) => h("option", { value: a })));
  const apply = h("button", { type: "submit", "data-testid": "audit-apply" }, t("common.apply"));
  const form = h("form", { class: "controls" }, field(t("common.from"), from), field(t("common.to"), to), field(t("fin.actor_id"), actor), field(t("fin.action"), action), actions, apply);
  const results = h("div", { class: "results" });
  const verify = h(
    "section",
    { class: "card", "data-testid": "audit-verify" },
    h("h2", {}, t("fin.verifyTitle")),
    h("p", {}, t("fin.verifyNote")),
    h("pre", {}, h("code", { "data-testid": "audit-verify-command" }, VERIFY_COMMAND)),
  );
  ctx.show(h("h1", {}, t("fin.auditTitle")), form, results, verify);

  await ctx.query(
    form,
    results,
    guarded(async () => {
      const rows: HTMLTableRowElement[] = [];
      const body = h("div", {});
      const more = button("audit-more", t("fin.more"), { class: "secondary" });
      const fetchPage = async (token: string) => {
        const query = queryOf([["from", from.value], ["to", to.value], ["actor_id", actor.value.trim()], ["action", action.value.trim()], ["page_size", String(PAGE_SIZE)], ["page_token", token]]);
        const page = await getJson<AuditPage>(`/v1/audit${query}`);
        rows.push(...(page.entries ?? []).map((e) => entryRow(ctx, e)));
        body.replaceChildren(table("audit", t("fin.auditEntries"), headers("seq", "at", "actor_id", "action", "target", "before", "after", "hash"), rows));
        more.hidden = !page.next_page_token;
        more.onclick = () => void fetchPage(page.next_page_token).catch((error) => body.append(financeError(error)));
      };
      await fetchPage("");
      return [body, more];
    }),
  );
}
