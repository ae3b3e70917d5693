// The dashboard's rough edges (issue 32, item 6) that are pure logic: periods not computed yet,
// the top 5's opening period, localized API errors, readable and paged executions, the
// run panel's day ends and sellers' names read once.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, fieldOf } from "../src/api";
import { formatDayText, parseDayText } from "../src/day-input";
import { periodState } from "../src/format";
import { errorText } from "../src/i18n";
import { describeParameters, filterExecutions } from "../src/pages/admin";
import { plottedValues } from "../src/pages/charts";
import { lastComputedDay } from "../src/pages/top";
import { JobProgress } from "../src/progress";
import { sellerUsername } from "../src/seller-names";
import type { Account, JobEvent, JobExecution, StatsPoint } from "../src/types";

test("a period is done, partial or pending against the answer's data_through", () => {
  assert.equal(periodState("2026-11-30", "2026-12-06", "2026-12-06"), "done");
  assert.equal(periodState("2026-11-30", "2026-12-06", "2026-12-02"), "partial");
  assert.equal(periodState("2026-12-07", "2026-12-13", "2026-12-06"), "pending");
  assert.equal(periodState("2026-12-07", "2026-12-07", "2026-12-06"), "pending"); // today
  assert.equal(periodState("2026-12-01", "2026-12-01", ""), "pending"); // nothing computed
});

function point(start: string, end: string, views: string): StatsPoint {
  return { period_start: start, period_end: end, views, watch_time_sec: "0", ad_views: "0", video_revenue: "0", ad_revenue: "0" } as StatsPoint;
}

test("the chart plots a gap (null), not a zero, for a period not computed yet", () => {
  const points = [point("2026-12-05", "2026-12-05", "4"), point("2026-12-06", "2026-12-06", "0"), point("2026-12-07", "2026-12-07", "0")];
  assert.deepEqual(plottedValues(points, "views", "2026-12-06"), [4, 0, null]);
  // The current month, computed through yesterday: its figures so far, drawn.
  assert.deepEqual(plottedValues([point("2026-12-01", "2026-12-31", "9")], "views", "2026-12-06"), [9]);
});

test("the top 5 opens on the last computed day when the asked period has none", () => {
  assert.equal(lastComputedDay({ period_start: "2026-12-07", period_end: "2026-12-13", data_through: "2026-12-06" }), "2026-12-06");
  assert.equal(lastComputedDay({ period_start: "2026-11-30", period_end: "2026-12-06", data_through: "2026-12-02" }), "");
  assert.equal(lastComputedDay({ period_start: "2026-12-07", period_end: "2026-12-13", data_through: "" }), "");
});

test("an API error reads in Korean without the server's English text, naming the field", () => {
  assert.equal(fieldOf("to_date: 2026-12-09 is after today"), "to_date");
  assert.equal(fieldOf("no seller 9"), "");
  const bad = new ApiError(400, "to_date: 2026-12-09 is after today (2026-12-07, Asia/Seoul)", "to_date");
  assert.equal(errorText(bad), "입력한 값이 올바르지 않습니다: 종료 날짜");
  assert.doesNotMatch(errorText(bad), /after today/);
  assert.equal(errorText(new ApiError(404, "seller_id: no seller 9", "seller_id")), "찾는 항목이 없습니다.");
  assert.equal(errorText(new ApiError(503, "upstream connect error")), "서비스를 잠시 사용할 수 없습니다. 잠시 후 다시 시도하세요.");
  assert.equal(errorText(new ApiError(418, "teapot")), "요청을 처리하지 못했습니다 (HTTP 418).");
  assert.equal(errorText(new Error("the page's own words")), "the page's own words");
});

test("an execution's parameters read as its day, not JSON", () => {
  assert.equal(describeParameters('{"date":"2026-12-01"}', "ko"), "날짜 2026년 12월 1일 (화)");
  assert.equal(describeParameters('{"date":"2026-12-01","shard":"3"}', "ko"), "날짜 2026년 12월 1일 (화) · shard 3");
  assert.equal(describeParameters("not json", "ko"), "not json");
});

test("executions are filtered by status and text, then paged by 20", () => {
  const all = Array.from({ length: 45 }, (_, i) => ({
    job_execution_id: String(100 - i),
    job_name: "daily",
    parameters: `{"date":"2026-11-${String((i % 28) + 1).padStart(2, "0")}"}`,
    status: i % 3 === 0 ? "FAILED" : "COMPLETED",
    error: i % 3 === 0 ? "disk full" : "",
  })) as JobExecution[];
  const first = filterExecutions(all, "", "", 0);
  assert.deepEqual([first.rows.length, first.pages, first.count, first.rows[0].job_execution_id], [20, 3, 45, "100"]);
  const last = filterExecutions(all, "", "", 2);
  assert.deepEqual([last.rows.length, last.rows[4].job_execution_id], [5, "56"]);
  assert.equal(filterExecutions(all, "", "", 9).rows[0].job_execution_id, "60"); // past the end: the last page
  const failed = filterExecutions(all, "FAILED", "", 0);
  assert.deepEqual([failed.count, failed.rows.every((e) => e.status === "FAILED")], [15, true]);
  assert.equal(filterExecutions(all, "", "disk", 0).count, 15);
  assert.deepEqual(filterExecutions(all, "", "2026-11-03", 0).rows.map((e) => e.job_execution_id), ["98", "70"]);
});

test("a day's own end during a multi-day run is not the job's end", () => {
  const progress = new JobProgress(2);
  const event = (e: Partial<JobEvent>) => progress.apply({ partitions_total: 0, final: false, ...e } as JobEvent);
  event({ type: "JOB_STARTED", day: "2026-12-01" });
  event({ type: "JOB_FINISHED", day: "2026-12-01", partitions_done: 1, partitions_total: 1 });
  assert.equal(progress.lastType, "DAY_FINISHED");
  assert.equal(progress.lastDay, "2026-12-01");
  assert.equal(progress.finished, false);
  assert.ok(progress.percent < 100);
  event({ type: "JOB_SKIPPED", day: "2026-12-02" });
  assert.equal(progress.lastType, "DAY_SKIPPED");
  event({ type: "JOB_FINISHED", day: "2026-12-02", final: true });
  assert.deepEqual([progress.lastType, progress.finished, progress.percent], ["JOB_FINISHED", true, 100]);
});

test("a day field reads the Korean, ISO and loose forms and shows the page's own", () => {
  assert.equal(parseDayText("2026. 12. 07."), "2026-12-07");
  assert.equal(parseDayText("2026.12.7"), "2026-12-07");
  assert.equal(parseDayText("2026-12-07"), "2026-12-07");
  assert.equal(parseDayText(" 2026/2/28 "), "2026-02-28");
  assert.equal(parseDayText("2026. 02. 30."), ""); // not a real day
  assert.equal(parseDayText("12/07/2026"), ""); // the US order is not guessed at
  assert.equal(parseDayText(""), "");
  assert.equal(formatDayText("2026-12-07", "ko"), "2026. 12. 07.");
  assert.equal(formatDayText("2026-12-07", "en"), "2026-12-07");
  assert.equal(formatDayText("", "ko"), "");
});

test("a seller's name is asked once per seller and reader; a failed read is asked again", async () => {
  const asked: string[] = [];
  let refuse = true;
  const fetchAccount = async (path: string) => {
    asked.push(path);
    if (refuse) throw new ApiError(503, "no account instance");
    return { account_id: "42", username: "minji", role: "SELLER" } as Account;
  };
  assert.equal(await sellerUsername("1", "42", fetchAccount), null);
  refuse = false;
  assert.equal(await sellerUsername("1", "42", fetchAccount), "minji");
  assert.equal(await sellerUsername("1", "42", fetchAccount), "minji");
  assert.deepEqual(asked, ["/v1/accounts/42", "/v1/accounts/42"]);
  assert.equal(await sellerUsername("7", "42", fetchAccount), "minji"); // another session asks for itself
  assert.equal(asked.length, 3);
});
