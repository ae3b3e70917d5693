import { getJson, postStream } from "../api";
import { errorNode, type PageContext } from "../context";
import { dayIn, addDays, formatCount, formatDay, formatTimestamp, type Lang } from "../format";
import { field, figure, h, input, select, table } from "../dom";
import { t, tEnum } from "../i18n";
import { JobProgress, type StreamLimitState } from "../progress";
import { dayField, dayInput } from "../day-input";
import type { Instance, JobEvent, JobExecution } from "../types";

/** Days from one YYYY-MM-DD to another, both included (0 when the run has no date). */
export function daysBetween(from: string, to: string): number {
  if (!from) return 0;
  return Math.max(1, Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1);
}

function executionRow(e: JobExecution, ctx: PageContext): HTMLTableRowElement {
  const zone = ctx.config.time_zone;
  const partitions = h(
    "ul",
    { class: "partitions" },
    ...(e.partitions ?? []).map((p) =>
      h("li", { "data-partition": p.partition_key, "data-status": p.status }, `${p.partition_key} ${p.status} · ${t("admin.rows", { rows: formatCount(p.rows_read || "0") })}`, p.error ? ` · ${p.error}` : ""),
    ),
  );
  return h(
    "tr",
    { "data-testid": "execution-row", "data-execution-id": e.job_execution_id },
    figure("td", e.job_execution_id, e.job_execution_id, { "data-field": "job_execution_id" }),
    figure("td", e.job_name, e.job_name, { "data-field": "job_name" }),
    figure("td", describeParameters(e.parameters, ctx.lang), e.parameters, { "data-field": "parameters" }),
    figure("td", e.status, e.status, { "data-field": "status" }),
    figure("td", formatTimestamp(e.started_at, zone, ctx.lang), e.started_at, { "data-field": "started_at" }),
    figure("td", formatTimestamp(e.ended_at, zone, ctx.lang), e.ended_at, { "data-field": "ended_at" }),
    h("td", { "data-field": "partitions", "data-exact": String((e.partitions ?? []).length) }, partitions),
    figure("td", e.error, e.error, { "data-field": "error" }),
  );
}

function instanceRow(i: Instance): HTMLTableRowElement {
  const healthy = i.healthy === true;
  return h(
    "tr",
    { "data-testid": "instance-row", "data-cluster": i.cluster, "data-address": i.address, "data-healthy": String(healthy), class: healthy ? "" : "unhealthy" },
    figure("td", i.cluster, i.cluster, { "data-field": "cluster" }),
    figure("td", i.address, i.address, { "data-field": "address" }),
    figure("td", healthy ? t("admin.healthy") : t("admin.unhealthy"), String(healthy), { "data-field": "healthy" }),
    figure("td", i.health_flags, i.health_flags, { "data-field": "health_flags" }),
    figure("td", formatCount(i.requests_total || "0"), i.requests_total, { "data-field": "requests_total" }),
    figure("td", formatCount(i.requests_error || "0"), i.requests_error, { "data-field": "requests_error" }),
    figure("td", formatCount(i.connections_active || "0"), i.connections_active, { "data-field": "connections_active" }),
  );
}

/** A job's identifying parameters (canonical JSON, as the API gives them) for people: the
 * daily job's `{"date": ...}` as its day; any other key as `key value`; text that is not a
 * JSON object as it is. */
export function describeParameters(json: string, lang: Lang): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return json;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return json;
  return Object.entries(parsed as Record<string, unknown>)
    .map(([key, value]) => (key === "date" && typeof value === "string" ? t("admin.params.date", { date: formatDay(value, lang) }) : `${key} ${String(value)}`))
    .join(" · ");
}

/** The executions shown: those matching the filter (a status, and text found in the id, the
 * parameters, the status or the error), then one page of PAGE_SIZE of them (page from 0). */
export function filterExecutions(all: JobExecution[], status: string, text: string, page: number): { rows: JobExecution[]; pages: number; count: number } {
  const needle = text.trim().toLowerCase();
  const matching = all.filter(
    (e) =>
      (!status || e.status === status) &&
      (!needle || [e.job_execution_id, e.parameters, e.status, e.error ?? ""].some((v) => String(v).toLowerCase().includes(needle))),
  );
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const current = Math.min(Math.max(0, page), pages - 1);
  return { rows: matching.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE), pages, count: matching.length };
}

// The newest executions the API lists (its maximum), paged and filtered in the page.
const FETCHED = 100;
const PAGE_SIZE = 20;

function executionsView(ctx: PageContext, all: JobExecution[]): HTMLElement {
  const statuses = [...new Set(all.map((e) => e.status))].sort();
  const status = select("executions-status", "executions-filter-status", [["", t("admin.filterAll")], ...statuses.map((v): [string, string] => [v, v])], "");
  const text = input("executions-text", "executions-filter-text", "search", "");
  const prev = h("button", { type: "button", "data-testid": "executions-prev", class: "secondary" }, t("admin.prev"));
  const next = h("button", { type: "button", "data-testid": "executions-next", class: "secondary" }, t("admin.next"));
  const position = h("span", { "data-testid": "executions-page", role: "status" });
  const body = h("div", {});
  const headers = ["job_execution_id", "job_name", "parameters", "status", "started_at", "ended_at", "partitions", "error"].map((f) => t(`field.${f}` as "field.status"));
  let page = 0;
  const draw = () => {
    const shown = filterExecutions(all, status.value, text.value, page);
    page = Math.min(page, shown.pages - 1);
    position.textContent = t("admin.page", { page: String(page + 1), pages: String(shown.pages), count: String(shown.count) });
    position.dataset.page = String(page + 1);
    prev.disabled = page === 0;
    next.disabled = page >= shown.pages - 1;
    body.replaceChildren(table("executions", t("admin.executions"), headers, shown.rows.map((e) => executionRow(e, ctx))));
  };
  status.addEventListener("change", () => ((page = 0), draw()));
  text.addEventListener("input", () => ((page = 0), draw()));
  prev.addEventListener("click", () => ((page -= 1), draw()));
  next.addEventListener("click", () => ((page += 1), draw()));
  draw();
  return h(
    "div",
    {},
    h("h2", {}, t("admin.executions")),
    h("div", { class: "controls" }, field(t("admin.filterStatus"), status), field(t("admin.filterText"), text)),
    body,
    h("div", { class: "pager" }, prev, position, next),
  );
}

async function loadExecutions(ctx: PageContext, into: HTMLElement): Promise<void> {
  try {
    const answer = await getJson<{ executions: JobExecution[] }>(`/v1/batch/jobs?limit=${FETCHED}`);
    into.replaceChildren(executionsView(ctx, answer.executions ?? []));
  } catch (error) {
    if ((error as { status?: number }).status === 403) throw error;
    into.replaceChildren(h("h2", {}, t("admin.executions")), errorNode(error));
  }
}

async function loadInstances(ctx: PageContext, into: HTMLElement): Promise<void> {
  try {
    const answer = await getJson<{ instances: Instance[] }>("/v1/batch/instances");
    const headers = ["cluster", "address", "healthy", "health_flags", "requests_total", "requests_error", "connections_active"].map((f) => t(`field.${f}` as "field.status"));
    into.replaceChildren(table("instances", t("admin.instances"), headers, (answer.instances ?? []).map(instanceRow)));
  } catch (error) {
    if ((error as { status?: number }).status === 403) throw error;
    into.replaceChildren(h("h2", {}, t("admin.instances")), errorNode(error));
  }
  void ctx;
}

function drawProgress(progress: JobProgress, bar: HTMLProgressElement, status: HTMLElement, list: HTMLElement): void {
  const percent = progress.percent;
  bar.max = 100;
  bar.value = percent;
  bar.dataset.percent = String(percent);
  bar.textContent = `${percent}%`;
  status.dataset.type = progress.lastType;
  // A day's own end (not the run's) says which day, and that the run goes on.
  const said = progress.lastType.startsWith("DAY_") ? t(`event.${progress.lastType}` as "event.DAY_FINISHED", { day: progress.lastDay }) : tEnum("event", progress.lastType);
  status.textContent = `${percent}% · ${said}${progress.message && progress.failed ? ` · ${progress.message}` : ""}`;
  const items = [...progress.partitions.values()].map((p) => {
    const element = h("progress", {
      "data-testid": "partition-progress",
      "data-partition": p.key,
      "data-day": p.day,
      "data-status": p.status,
      max: 100,
      "aria-label": `${p.day} ${p.key}`,
    });
    if (p.percent !== null) {
      element.value = p.percent;
      element.dataset.percent = String(p.percent);
    }
    return h("li", {}, h("span", { class: "partition-name" }, `${p.day} ${p.key}`), element, h("span", { class: "note" }, `${tEnum("event", p.status)} · ${t("admin.rows", { rows: formatCount(p.rowsRead) })}${p.note ? ` · ${p.note}` : ""}`));
  });
  const stream = progress.streamLimit;
  list.replaceChildren(...(stream ? [streamLimitItem(stream)] : []), ...items);
}

/** The day's stream-limit step, before its partitions: running (with the engine's progress) or done. */
function streamLimitItem(stream: StreamLimitState): HTMLElement {
  const label = `${stream.day} ${t("admin.streamLimit")}`;
  const element = h("progress", { "data-testid": "stream-limit-progress", "data-day": stream.day, "data-running": String(stream.running), max: 100, "aria-label": label });
  if (!stream.running) element.value = 100;
  const state = stream.running ? t("admin.streamRunning", { seconds: (stream.elapsedMs / 1000).toFixed(1) }) : t("admin.streamDone");
  return h("li", {}, h("span", { class: "partition-name" }, label), element, h("span", { class: "note" }, `${state}${stream.note ? ` · ${stream.note}` : ""}`));
}

export async function adminPage(ctx: PageContext): Promise<void> {
  const yesterday = addDays(dayIn(ctx.config.time_zone, new Date()), -1);
  const date = dayInput("admin-run-date", "admin-run-date", yesterday, ctx.lang);
  const toDate = dayInput("admin-run-to-date", "admin-run-to-date", "", ctx.lang);
  const rerun = input("admin-run-rerun", "admin-run-rerun", "checkbox", "");
  const submit = h("button", { type: "submit", "data-testid": "admin-run-submit" }, t("admin.submit"));
  const form = h(
    "form",
    { class: "controls" },
    dayField(t("admin.date"), date),
    dayField(t("admin.toDate"), toDate),
    h("div", { class: "field check" }, rerun, h("label", { for: rerun.id }, t("admin.rerun"))),
    submit,
  );
  const bar = h("progress", { "data-testid": "job-progress", max: 100, value: 0, "data-percent": "0", "aria-label": t("admin.progress") });
  const status = h("p", { "data-testid": "job-status", role: "status", "aria-live": "polite" }, t("admin.idle"));
  const partitionList = h("ul", { class: "partition-list", "aria-label": t("admin.partitions") });
  const runError = h("div", {});
  const executions = h("section", { class: "results" });
  const instances = h("section", { class: "results" });
  ctx.show(
    h("h1", {}, t("admin.title")),
    h("section", { class: "card" }, h("h2", {}, t("admin.run")), form, h("div", { class: "progress-row" }, bar), status, runError, h("h3", {}, t("admin.partitions")), partitionList),
    executions,
    instances,
  );
  ctx.loading();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    runError.replaceChildren();
    const progress = new JobProgress(daysBetween(date.day(), toDate.day() || date.day()));
    drawProgress(progress, bar, status, partitionList);
    const body: Record<string, unknown> = { job: "daily", rerun: rerun.checked };
    if (date.day()) body.date = date.day();
    if (toDate.day()) body.to_date = toDate.day();
    try {
      await postStream("/v1/batch/jobs", body, (e) => {
        progress.apply(e as JobEvent);
        drawProgress(progress, bar, status, partitionList);
      });
      if (!progress.finished) runError.replaceChildren(errorNode(new Error(t("event.cut"))));
    } catch (error) {
      ctx.fail(error, runError);
    } finally {
      submit.disabled = false;
      // The run changed both: its execution, and the requests Envoy counted for each instance.
      await Promise.all([loadExecutions(ctx, executions), loadInstances(ctx, instances)]).catch((error) => ctx.fail(error));
    }
  });
  try {
    await Promise.all([loadExecutions(ctx, executions), loadInstances(ctx, instances)]);
    ctx.loaded();
  } catch (error) {
    ctx.fail(error);
  }
}
