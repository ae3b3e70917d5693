"""The batch's domain vocabulary: statuses, the partition plan, executions and events.

Plain values only (no SQL, no gRPC): the repository maps them to tables, the servicer to
protos, the CLI to progress bars.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable

# The last partition of a plan ends here, so a fixed plan covers every video id ever
# created, even videos created after the instance was split (ranges are [lo, hi)).
MAX_VIDEO_ID = 2**63 - 1


class BatchStatus(enum.IntEnum):
    """The status of a job execution or a partition execution, ordered like Spring Batch's
    BatchStatus: from the best outcome to the worst.

    The order is the contract: an aggregate's status is the WORST (the max) of its parts',
    so a job execution whose partitions are COMPLETED, COMPLETED and FAILED is FAILED, and
    one with a partition still STARTED is STARTED. COMPLETED is the lowest on purpose: it
    can only be the aggregate when every part completed.

    - COMPLETED: done, its writes committed (for a partition: in the same transaction).
    - STARTING: the row exists, the work has not begun.
    - STARTED: running (a job execution keeps its heartbeat fresh meanwhile).
    - STOPPING / STOPPED: an operator asked to stop; running partitions were let finish,
      no new ones began. Restartable.
    - FAILED: an error, or a crash found by `recover` (stale heartbeat). Restartable: a
      restart runs only the partitions that did not complete.
    """

    COMPLETED = 1
    STARTING = 2
    STARTED = 3
    STOPPING = 4
    STOPPED = 5
    FAILED = 6

    @property
    def is_running(self) -> bool:
        return self in (BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING)

    @property
    def is_restartable(self) -> bool:
        return self in (BatchStatus.STOPPED, BatchStatus.FAILED)

    @staticmethod
    def worst(statuses: Iterable[BatchStatus]) -> BatchStatus:
        """The aggregate status of several parts (COMPLETED when there are none)."""
        return max(statuses, default=BatchStatus.COMPLETED)


class EventStatus(enum.StrEnum):
    """The statuses an event may carry that are not statuses of an execution (an event's
    `status` is a BatchStatus name otherwise). Their values are what events carry on the
    wire; nothing stores them.

    - REFUSED: a day whose launch was refused because another execution holds its guard;
    - RETRYING: a dispatched partition sent out again as a new attempt.
    """

    REFUSED = "REFUSED"
    RETRYING = "RETRYING"


# A job instance's identifying parameters (`{"date": "2026-11-01"}` for the daily job).
JobParameters = dict[str, str]


class RunKind(enum.StrEnum):
    FIRST = "FIRST"  # the instance's first execution
    RESTART = "RESTART"  # continues a FAILED/STOPPED execution: only unfinished partitions
    RERUN = "RERUN"  # a completed instance run again because the caller asked (rerun)
    STALE = "STALE"  # a completed instance run again because plays arrived after it


class EventType(enum.StrEnum):
    """Names match paysystem.v1.JobEventType."""

    JOB_STARTED = "JOB_STARTED"
    PARTITION_STARTED = "PARTITION_STARTED"
    PARTITION_PROGRESS = "PARTITION_PROGRESS"
    PARTITION_FINISHED = "PARTITION_FINISHED"
    PARTITION_FAILED = "PARTITION_FAILED"
    JOB_FINISHED = "JOB_FINISHED"
    JOB_FAILED = "JOB_FAILED"
    JOB_SKIPPED = "JOB_SKIPPED"


@dataclasses.dataclass(frozen=True)
class JobEvent:
    """One progress event of a run; the last one of a run has final=True."""

    type: EventType
    job_name: str
    job_execution_id: int = 0
    day: str = ""
    partition_key: str = ""
    rows_read: int = 0
    rows_written: int = 0
    elapsed_ms: int = 0
    status: str = ""
    message: str = ""
    partitions_total: int = 0
    partitions_done: int = 0
    final: bool = False
    first_day: str = ""  # the final event: the days the run covered (`day` is the last)
    last_day: str = ""

    @property
    def is_stream_limit_progress(self) -> bool:
        """A tick of the day's stream-limit step (batch/jobs/day.py): the one progress event
        that is about no partition."""
        return self.type is EventType.PARTITION_PROGRESS and not self.partition_key


@dataclasses.dataclass(frozen=True)
class Partition:
    """A named video-id range [video_id_lo, video_id_hi) of an instance's fixed plan."""

    key: str
    video_id_lo: int
    video_id_hi: int


@dataclasses.dataclass(frozen=True)
class PartitionResult:
    """How one partition of a day's execution ended, as its handler saw it: completed,
    failed (`error`), or neither when it was not begun because the day was stopping."""

    key: str
    completed: bool = False
    rows_read: int = 0
    rows_written: int = 0
    error: str | None = None

    def status(self, *, not_begun: BatchStatus) -> BatchStatus:
        """COMPLETED, FAILED (with an error), or `not_begun` for a partition that was not begun."""
        if self.completed:
            return BatchStatus.COMPLETED
        return BatchStatus.FAILED if self.error is not None else not_begun


@dataclasses.dataclass(frozen=True)
class PartitionWork:
    """What a worker needs to run one partition attempt, read from its partition execution."""

    partition_execution_id: int
    job_execution_id: int
    job_name: str
    parameters: JobParameters
    partition_key: str
    video_id_lo: int
    video_id_hi: int
    status: BatchStatus
    attempt: int


@dataclasses.dataclass(frozen=True)
class JobInstance:
    job_instance_id: int
    job_name: str
    parameters: JobParameters


@dataclasses.dataclass(frozen=True)
class PartitionExecution:
    partition_execution_id: int
    job_execution_id: int
    partition_key: str
    video_id_lo: int
    video_id_hi: int
    status: BatchStatus
    rows_read: int
    rows_written: int
    started_at_us: int | None
    ended_at_us: int | None
    error: str | None
    worker: str | None
    attempt: int = 1  # 2, 3, ... when a dispatched partition's worker was lost and it was retried

    @property
    def elapsed_ms(self) -> int:
        if self.started_at_us is None or self.ended_at_us is None:
            return 0
        return (self.ended_at_us - self.started_at_us) // 1000


@dataclasses.dataclass(frozen=True)
class JobExecution:
    job_execution_id: int
    job_instance_id: int
    job_name: str
    parameters: JobParameters
    run_kind: RunKind
    status: BatchStatus
    play_id_watermark: int | None
    created_at_us: int
    started_at_us: int | None
    ended_at_us: int | None
    heartbeat_at_us: int | None
    owner: str
    exit_message: str | None
    version: int
    partitions: tuple[PartitionExecution, ...] = ()


def canonical_parameters(parameters: JobParameters) -> str:
    """The identifying parameters as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


def job_key(parameters: JobParameters) -> str:
    """The instance key: SHA-256 of the canonical identifying parameters."""
    return hashlib.sha256(canonical_parameters(parameters).encode()).hexdigest()
