import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonObjectSplitter } from "../src/api";
import { JobProgress } from "../src/progress";
import type { JobEvent } from "../src/types";

function event(fields: Partial<JobEvent>): JobEvent {
  return { type: "JOB_EVENT_TYPE_UNSPECIFIED", job_execution_id: "1", job_name: "daily", day: "2026-11-30", partition_key: "", rows_read: "0", rows_written: "0", elapsed_ms: "0", status: "", message: "", partitions_total: 0, partitions_done: 0, final: false, first_day: "", last_day: "", ...fields };
}

test("streamed events are split into objects whatever the chunk boundaries", () => {
  const text = '{"type":"JOB_STARTED","message":"a } in \\"text\\" {"}\n{"type":"JOB_FINISHED","final":true}\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const splitter = new JsonObjectSplitter();
    const found = [...splitter.push(text.slice(0, cut)), ...splitter.push(text.slice(cut))];
    assert.deepEqual(found, [{ type: "JOB_STARTED", message: 'a } in "text" {' }, { type: "JOB_FINISHED", final: true }]);
  }
});

test("a JSON array of events (the transcoder's default) splits the same way", () => {
  const splitter = new JsonObjectSplitter();
  assert.deepEqual([...splitter.push('[{"a":{"b":1}}'), ...splitter.push(',{"c":2}]')], [{ a: { b: 1 } }, { c: 2 }]);
});

test("overall progress: each requested day's share of partitions; 100 only on the final event", () => {
  // The events of a two-day run, as the batch sends them (one job instance per day).
  const progress = new JobProgress(2);
  progress.apply(event({ type: "JOB_STARTED", day: "2026-11-29", partitions_total: 2, partitions_done: 0 }));
  progress.apply(event({ type: "PARTITION_STARTED", day: "2026-11-29", partition_key: "p0", partitions_total: 2 }));
  assert.equal(progress.percent, 0);
  progress.apply(event({ type: "PARTITION_PROGRESS", day: "2026-11-29", partition_key: "p0", rows_read: "500", partitions_total: 2 }));
  assert.equal(progress.partitions.get("2026-11-29/p0")?.percent, null);
  progress.apply(event({ type: "PARTITION_FINISHED", day: "2026-11-29", partition_key: "p0", partitions_total: 2, partitions_done: 1 }));
  assert.equal(progress.percent, 25);
  progress.apply(event({ type: "PARTITION_FINISHED", day: "2026-11-29", partition_key: "p1", partitions_total: 2, partitions_done: 2 }));
  progress.apply(event({ type: "JOB_FINISHED", day: "2026-11-29", partitions_total: 2, partitions_done: 2 }));
  assert.equal(progress.percent, 50); // a day's own JOB_FINISHED is not the end of the run
  assert.ok(!progress.finished);
  progress.apply(event({ type: "JOB_SKIPPED", day: "2026-11-30", partitions_total: 2, partitions_done: 2 }));
  assert.equal(progress.percent, 99);
  assert.equal(progress.partitions.get("2026-11-29/p0")?.percent, 100);
  progress.apply(event({ type: "JOB_FINISHED", day: "2026-11-29..2026-11-30", partitions_total: 2, partitions_done: 2, final: true }));
  assert.equal(progress.percent, 100);
  assert.equal(progress.lastType, "JOB_FINISHED");
  assert.ok(progress.finished && !progress.failed);
});

test("a failed run stays below 100", () => {
  const progress = new JobProgress(1);
  progress.apply(event({ type: "JOB_STARTED", partitions_total: 4, partitions_done: 1 }));
  progress.apply(event({ type: "JOB_FAILED", final: true, message: "boom" }));
  assert.equal(progress.percent, 25);
  assert.ok(progress.failed);
});

test("a partition's note is the engine's progress its PARTITION_PROGRESS events carry", () => {
  const progress = new JobProgress(1);
  progress.apply(event({ type: "PARTITION_STARTED", partition_key: "p0", partitions_total: 1 }));
  progress.apply(event({ type: "PARTITION_PROGRESS", partition_key: "p0", partitions_total: 1 }));
  assert.equal(progress.partitions.get("2026-11-30/p0")?.note, "");
  const spark = "spark: 3/8 tasks, 1/4 stages of 2 jobs, 1,200 rows read";
  progress.apply(event({ type: "PARTITION_PROGRESS", partition_key: "p0", partitions_total: 1, message: spark }));
  assert.equal(progress.partitions.get("2026-11-30/p0")?.note, spark);
  progress.apply(event({ type: "PARTITION_PROGRESS", partition_key: "p0", partitions_total: 1 })); // a tick without one
  progress.apply(event({ type: "PARTITION_FINISHED", partition_key: "p0", rows_read: "900", partitions_total: 1, partitions_done: 1 }));
  const finished = progress.partitions.get("2026-11-30/p0");
  assert.equal(finished?.note, spark); // the last counts stay beside the outcome
  assert.equal(finished?.rowsRead, "900");
});

test("the day's stream-limit step: its ticks (no partition key) say it runs, the day's next event that it is done", () => {
  const progress = new JobProgress(1);
  progress.apply(event({ type: "JOB_STARTED", day: "2026-11-29", partitions_total: 2 }));
  const before = progress.streamLimit; // (a copy: an assertion on the field would narrow it for good)
  assert.equal(before, null);
  progress.apply(event({ type: "PARTITION_PROGRESS", day: "2026-11-29", elapsed_ms: "2000", partitions_total: 2 }));
  const first = progress.streamLimit;
  assert.deepEqual(first, { day: "2026-11-29", running: true, elapsedMs: 2000, note: "" });
  assert.equal(progress.lastType, "STREAM_LIMIT");
  const spark = "spark: 3/8 tasks, 1/2 stages of 1 job, 1,200 rows read";
  progress.apply(event({ type: "PARTITION_PROGRESS", day: "2026-11-29", elapsed_ms: "4000", message: spark, partitions_total: 2 }));
  progress.apply(event({ type: "PARTITION_PROGRESS", day: "2026-11-29", elapsed_ms: "6000", partitions_total: 2 })); // no new counts
  const latest = progress.streamLimit;
  assert.deepEqual(latest, { day: "2026-11-29", running: true, elapsedMs: 6000, note: spark });
  assert.equal(progress.partitions.size, 0); // not a partition
  assert.equal(progress.percent, 0);
  progress.apply(event({ type: "PARTITION_STARTED", day: "2026-11-29", partition_key: "p0", partitions_total: 2 }));
  assert.equal(progress.streamLimit?.running, false);
  assert.equal(progress.streamLimit?.note, spark); // the last counts stay beside it
  assert.equal(progress.lastType, "PARTITION_STARTED");
});

test("a stream-limit step that fails ends with its day", () => {
  const progress = new JobProgress(1);
  progress.apply(event({ type: "PARTITION_PROGRESS", day: "2026-11-29", elapsed_ms: "2000", partitions_total: 2 }));
  progress.apply(event({ type: "JOB_FAILED", day: "2026-11-29", final: true, message: "OperationalError" }));
  assert.equal(progress.streamLimit?.running, false);
  assert.ok(progress.failed);
});
