// #/closings: the closed months, closing the next one, its pending adjustments, and the
// approval of its payouts by an admin other than the closer (DESIGN 2b, maker-checker).

import { getJson } from "../../api";
import type { PageContext } from "../../context";
import { field, h, input, table } from "../../dom";
import { dayIn, formatCount, formatMonth } from "../../format";
import { t } from "../../i18n";
import type { Closing, PendingAdjustments } from "../../types";
import { previousMonth } from "./helpers";
import { button, financeError, headers, keyedAction, krwCell, named, outcome, textCell, timeCell } from "./ui";

const FIELDS = ["month", "closed_at", "closed_by", "approved_by", "approved_at", "sellers", "earnings", "adjustments", "total", "payouts_created", "payouts_krw", "transfer_file_sha256", "actions"];

function approved(c: Closing): boolean {
  return Boolean(c.approved_by) && c.approved_by !== "0";
}

async function showAdjustments(ctx: PageContext, month: string, into: HTMLElement): Promise<void> {
  try {
    const pending = await getJson<PendingAdjustments>(`/v1/settlement/closings/${encodeURIComponent(month)}/pending-adjustments`);
    const rows = (pending.adjustments ?? []).map((a) =>
      h(
        "tr",
        { "data-testid": "adjustment-row", "data-seller-id": a.seller_id, "data-video-id": a.video_id },
        textCell("seller_id", a.seller_id),
        textCell("video_id", a.video_id),
        krwCell("in_ledger", a.in_ledger),
        krwCell("computed", a.computed),
        krwCell("difference", a.difference),
      ),
    );
    into.replaceChildren(
      table("pending-adjustments", t("fin.pendingOf", { month: formatMonth(month, ctx.lang) }), headers("seller_id", "video_id", "in_ledger", "computed", "difference"), rows),
      h("p", { class: "note" }, t("fin.pendingTotal"), " ", h("span", { "data-testid": "pending-total", "data-exact": pending.total, title: pending.total }, pending.total)),
    );
  } catch (error) {
    into.replaceChildren(financeError(error));
  }
}

function closingRow(ctx: PageContext, c: Closing, reload: () => Promise<void>, adjustments: HTMLElement, out: HTMLElement): HTMLTableRowElement {
  const show = button("closing-adjustments", t("fin.showAdjustments"), { "aria-label": named(t("fin.showAdjustments"), c.month), class: "secondary" });
  show.addEventListener("click", () => void showAdjustments(ctx, c.month, adjustments));
  const actions = h("td", { "data-field": "actions", "data-exact": approved(c) ? "approved" : "pending" }, show);
  if (!approved(c)) {
    const approve = button("closing-approve", t("fin.approve"), { "aria-label": named(t("fin.approve"), c.month) });
    keyedAction<Closing>(approve, out, () => ({ path: `/v1/settlement/closings/${encodeURIComponent(c.month)}:approve`, body: {} }), async (answer) => {
      await reload();
      out.replaceChildren(h("p", { "data-testid": "approve-done" }, t("fin.approved", { month: answer.month })));
    }, "fin.selfApproval");
    actions.append(" ", approve);
  }
  return h(
    "tr",
    { "data-testid": "closing-row", "data-month": c.month },
    textCell("month", formatMonth(c.month, ctx.lang), c.month),
    timeCell(ctx, "closed_at", c.closed_at),
    textCell("closed_by", c.closed_by),
    textCell("approved_by", approved(c) ? c.approved_by : t("fin.notApproved"), c.approved_by || "0"),
    timeCell(ctx, "approved_at", c.approved_at),
    textCell("sellers", formatCount(c.sellers || "0"), c.sellers),
    krwCell("earnings", c.earnings),
    krwCell("adjustments", c.adjustments),
    krwCell("total", c.total),
    textCell("payouts_created", formatCount(c.payouts_created || "0"), c.payouts_created),
    krwCell("payouts_krw", c.payouts_krw),
    textCell("transfer_file_sha256", c.transfer_file_sha256 ? `${c.transfer_file_sha256.slice(0, 12)}…` : "–", c.transfer_file_sha256),
    actions,
  );
}

export async function closingsPage(ctx: PageContext): Promise<void> {
  const month = input("close-month", "close-month", "month", previousMonth(dayIn(ctx.config.time_zone, new Date())), { required: true, pattern: "\\d{4}-\\d{2}" });
  const close = h("button", { type: "submit", "data-testid": "close-submit" }, t("fin.close"));
  const form = h("form", { class: "controls" }, field(t("fin.month"), month), close);
  const closeOut = outcome("close-outcome");
  const actionOut = outcome("closing-outcome");
  const list = h("section", { class: "results" });
  const adjustments = h("section", { class: "results", "data-testid": "adjustments-section" });

  const reload = async () => {
    const answer = await getJson<{ closings: Closing[] }>("/v1/settlement/closings");
    const closings = [...(answer.closings ?? [])].sort((a, b) => b.month.localeCompare(a.month));
    list.replaceChildren(table("closings", t("fin.closings"), headers(...FIELDS), closings.map((c) => closingRow(ctx, c, reload, adjustments, actionOut))));
  };
  keyedAction<Closing>(close, closeOut, () => ({ path: "/v1/settlement/closings", body: { month: month.value } }), async (answer) => {
    await reload();
    closeOut.replaceChildren(h("p", { "data-testid": "close-done" }, t("fin.closed", { month: answer.month })));
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  ctx.show(h("h1", {}, t("fin.closingsTitle")), h("section", { class: "card" }, h("h2", {}, t("fin.closeMonth")), form, closeOut), actionOut, list, adjustments);
  ctx.loading();
  await reload();
  ctx.loaded();
}
