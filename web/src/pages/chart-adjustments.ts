// Beside a seller's monthly chart: each month's statement total, which adds to the chart's
// revenue the adjustments posted at that month's close (differences found for earlier closed
// months). The chart's point is the month's own figures, as the API defines it; this table
// shows what it leaves out, so that the chart and the statement can be read together.

import { getJson } from "../api";
import { figure, h, table } from "../dom";
import { addDecimals, formatKrw, formatMonth, type Lang } from "../format";
import { t } from "../i18n";
import type { Statement, StatsPoint } from "../types";

// More months than a year or two would be one statement call per month: the note says what
// the chart excludes instead.
const MAX_MONTHS = 24;

/** The adjustments of a statement, summed exactly ("0" for none). */
export function adjustmentsTotal(statement: Pick<Statement, "adjustments">): string {
  return addDecimals("0", ...(statement.adjustments ?? []).map((a) => a.amount));
}

export async function adjustmentsBeside(sellerId: string, points: StatsPoint[], lang: Lang): Promise<HTMLElement> {
  const note = h("p", { class: "note", "data-testid": "chart-excludes-note" }, t("charts.excludesAdjustments"));
  if (!points.length || points.length > MAX_MONTHS) return note;
  const seller = encodeURIComponent(sellerId);
  const statements = await Promise.all(
    points.map((p) => getJson<Statement>(`/v1/sellers/${seller}/settlements?period=MONTHLY&date=${p.period_start}`)),
  );
  const rows = points.map((point, i) => {
    const revenue = addDecimals(point.video_revenue, point.ad_revenue);
    const adjustments = adjustmentsTotal(statements[i]);
    const total = statements[i].total;
    return h(
      "tr",
      { "data-testid": "adjustment-row", "data-period-start": point.period_start },
      h("th", { scope: "row" }, formatMonth(point.period_start, lang)),
      figure("td", formatKrw(revenue), revenue, { "data-field": "chart_revenue" }),
      figure("td", formatKrw(adjustments), adjustments, { "data-field": "adjustments" }),
      figure("td", formatKrw(total), total, { "data-field": "statement_total" }),
    );
  });
  const headers = [t("field.month"), t("charts.chartRevenue"), t("charts.adjustments"), t("charts.statementTotal")];
  return h("section", {}, table("chart-adjustments", t("charts.adjustmentsTable"), headers, rows), note);
}
