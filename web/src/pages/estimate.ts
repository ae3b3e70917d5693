// A statement's standing before its close: not computed yet (a future month, today) or
// computed in part (this month), said in words above it rather than left as a bare ₩0.

import { h } from "../dom";
import { formatDay, periodState, type Lang } from "../format";
import { t } from "../i18n";
import type { Statement } from "../types";

/** Above an open statement: a period the batch has not computed yet (a future month) or only
 * in part (this month) is an estimate, not closed; "" for a period computed in full. */
export function estimateNote(st: Pick<Statement, "period_start" | "period_end" | "data_through" | "status">, lang: Lang): HTMLElement | "" {
  if (st.status === "CLOSED") return "";
  const state = periodState(st.period_start, st.period_end, st.data_through);
  if (state === "done") return "";
  const through = formatDay(st.data_through, lang) || t("common.none");
  return h("p", { class: "notice", "data-testid": "statement-estimate", "data-state": state }, t(state === "pending" ? "statements.notComputed" : "statements.partial", { through }));
}
