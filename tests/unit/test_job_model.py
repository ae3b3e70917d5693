"""The batch's status order, instance keys and partition plans (no I/O)."""

import itertools

from batch.jobs.model import MAX_VIDEO_ID, BatchStatus, job_key
from batch.jobs.partitioner import plan_partitions


def test_a_job_is_as_bad_as_its_worst_partition():
    assert BatchStatus.worst([BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.STARTED]) is BatchStatus.FAILED
    assert BatchStatus.worst([BatchStatus.COMPLETED, BatchStatus.STARTED]) is BatchStatus.STARTED
    assert BatchStatus.worst([BatchStatus.COMPLETED, BatchStatus.COMPLETED]) is BatchStatus.COMPLETED
    assert BatchStatus.worst([]) is BatchStatus.COMPLETED


def test_only_failed_and_stopped_executions_are_restartable():
    assert {s for s in BatchStatus if s.is_restartable} == {BatchStatus.FAILED, BatchStatus.STOPPED}
    assert {s for s in BatchStatus if s.is_running} == {BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING}


def test_the_instance_key_does_not_depend_on_the_order_of_parameters():
    assert job_key({"date": "2026-11-01", "x": 1}) == job_key({"x": 1, "date": "2026-11-01"})
    assert job_key({"date": "2026-11-01"}) != job_key({"date": "2026-11-02"})


def test_a_plan_covers_every_video_id_with_contiguous_non_overlapping_ranges():
    plan = plan_partitions(100, 1100, 4)
    assert [p.key for p in plan] == ["p0", "p1", "p2", "p3"]
    assert plan[0].video_id_lo == 0 and plan[-1].video_id_hi == MAX_VIDEO_ID
    for left, right in itertools.pairwise(plan):
        assert left.video_id_hi == right.video_id_lo
        assert left.video_id_lo < left.video_id_hi
    assert [p.video_id_lo for p in plan[1:]] == [350, 600, 850]


def test_a_plan_has_no_more_ranges_than_ids_and_one_range_when_there_are_none():
    assert len(plan_partitions(5, 7, 8)) == 2
    assert plan_partitions(0, 0, 8) == plan_partitions(0, 0, 1)
    assert len(plan_partitions(0, 0, 8)) == 1


def test_partition_keys_sort_in_range_order_beyond_ten_partitions():
    keys = [p.key for p in plan_partitions(1, 1000, 12)]
    assert keys == sorted(keys) and keys[0] == "p00" and keys[-1] == "p11"
