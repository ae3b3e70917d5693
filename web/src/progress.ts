// The state of a running job, from its streamed RunJob events.

import type { JobEvent } from "./types";

export interface PartitionState {
  day: string;
  key: string;
  /** 0..100, or null while it runs (events carry rows read, not a total). */
  percent: number | null;
  status: string;
  rowsRead: string;
}

export class JobProgress {
  /** Per day: partitions done and total, as the latest event of that day says. */
  private days = new Map<string, { done: number; total: number }>();
  readonly partitions = new Map<string, PartitionState>();
  lastType = "";
  finished = false;
  failed = false;
  message = "";

  apply(event: JobEvent): void {
    this.lastType = event.type;
    if (event.message) this.message = event.message;
    if (event.partitions_total > 0) {
      this.days.set(event.day, { done: event.partitions_done ?? 0, total: event.partitions_total });
    }
    if (event.partition_key) {
      const id = `${event.day}/${event.partition_key}`;
      const p = this.partitions.get(id) ?? { day: event.day, key: event.partition_key, percent: 0, status: "", rowsRead: "0" };
      if (event.type === "PARTITION_STARTED") p.percent = 0;
      else if (event.type === "PARTITION_PROGRESS") p.percent = null;
      else if (event.type === "PARTITION_FINISHED") p.percent = 100;
      p.status = event.type;
      if (event.rows_read) p.rowsRead = event.rows_read;
      this.partitions.set(id, p);
    }
    if (event.final || event.type === "JOB_FINISHED" || event.type === "JOB_FAILED") {
      this.finished = true;
      this.failed = event.type !== "JOB_FINISHED";
    }
  }

  /** 0..100: the share of partitions done over every day seen; 100 once the job finished. */
  get percent(): number {
    if (this.finished && !this.failed) return 100;
    let done = 0;
    let total = 0;
    for (const day of this.days.values()) {
      done += Math.min(day.done, day.total);
      total += day.total;
    }
    return total ? Math.floor((done * 100) / total) : 0;
  }
}
