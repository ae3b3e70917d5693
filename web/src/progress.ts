// The state of a running job, from its streamed RunJob events.

import type { JobEvent } from "./types";

export interface PartitionState {
  day: string;
  key: string;
  /** 0..100, or null while it runs (events carry rows read, not a total). */
  percent: number | null;
  status: string;
  rowsRead: string;
  /** The engine's progress while it runs (e.g. the Spark engine's tasks, stages and rows read). */
  note: string;
}

/** A day's stream-limit step (keyed by viewer, before the day's partitions), from its
 * PARTITION_PROGRESS events without a partition key. */
export interface StreamLimitState {
  day: string;
  running: boolean;
  /** How long it has run, as its latest tick said. */
  elapsedMs: number;
  /** The engine's progress (the Spark engine's tasks, stages and rows read); "" on the SQL engine. */
  note: string;
}

export class JobProgress {
  /** expectedDays: the days the run was asked for (0 when unknown: every stale day). */
  constructor(private readonly expectedDays = 0) {}

  /** Per day: partitions done and total, as the latest event of that day says. */
  private days = new Map<string, { done: number; total: number }>();
  readonly partitions = new Map<string, PartitionState>();
  /** The latest day's stream-limit step, once it has ticked. */
  streamLimit: StreamLimitState | null = null;
  lastType = "";
  finished = false;
  failed = false;
  message = "";

  /** The day of the last event (a day's own end names it). */
  lastDay = "";

  apply(event: JobEvent): void {
    // A day's instance ends with its own JOB_FINISHED or JOB_SKIPPED (final=false) while the
    // run goes on: shown as that day's end (DAY_FINISHED, DAY_SKIPPED), never as the job's.
    const dayEnd = !event.final && (event.type === "JOB_FINISHED" || event.type === "JOB_SKIPPED");
    const streamTick = event.type === "PARTITION_PROGRESS" && !event.partition_key;
    this.lastType = dayEnd ? event.type.replace("JOB_", "DAY_") : streamTick ? "STREAM_LIMIT" : event.type;
    this.applyStreamLimit(event, streamTick);
    this.lastDay = event.day ?? "";
    if (event.message) this.message = event.message;
    // Each day's instance reports its own partitions (and ends with a JOB_FINISHED or
    // JOB_SKIPPED of its own, final=false); the run's last event (final=true) covers the range.
    if (event.final) {
      this.finished = true;
      this.failed = event.type !== "JOB_FINISHED";
      return;
    }
    if (event.partitions_total > 0) {
      this.days.set(event.day, { done: event.partitions_done ?? 0, total: event.partitions_total });
    }
    if (event.partition_key) {
      const id = `${event.day}/${event.partition_key}`;
      const p = this.partitions.get(id) ?? { day: event.day, key: event.partition_key, percent: 0, status: "", rowsRead: "0", note: "" };
      if (event.type === "PARTITION_STARTED") p.percent = 0;
      else if (event.type === "PARTITION_PROGRESS") {
        p.percent = null;
        if (event.message) p.note = event.message;
      }
      else if (event.type === "PARTITION_FINISHED") p.percent = 100;
      p.status = event.type;
      if (event.rows_read) p.rowsRead = event.rows_read;
      this.partitions.set(id, p);
    }
  }

  /** A tick of the day's stream-limit step; any other event of that day comes after it. */
  private applyStreamLimit(event: JobEvent, streamTick: boolean): void {
    if (streamTick) {
      const note = event.message || (this.streamLimit?.day === event.day ? this.streamLimit.note : "");
      this.streamLimit = { day: event.day, running: true, elapsedMs: Number(event.elapsed_ms ?? 0), note };
    } else if (this.streamLimit?.running && (this.streamLimit.day === event.day || event.final)) {
      this.streamLimit.running = false;
    }
  }

  /**
   * 0..100: each day counts as its share of partitions done, days not started yet as 0;
   * 100 only once the run's final event says it finished.
   */
  get percent(): number {
    if (this.finished && !this.failed) return 100;
    const days = Math.max(this.expectedDays, this.days.size);
    if (!days) return 0;
    let share = 0;
    for (const day of this.days.values()) share += Math.min(day.done, day.total) / day.total;
    return Math.min(99, Math.floor((share * 100) / days));
  }
}
