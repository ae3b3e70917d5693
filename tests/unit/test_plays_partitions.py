"""Which monthly partitions of plays to create ahead (services/video/partitions.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.video.partitions import month_of_partition, partition_clause, partitions_to_add

D = dt.date


def test_with_no_monthly_partition_the_months_start_at_todays_and_go_ahead():
    assert partitions_to_add(["pmax"], D(2026, 12, 3), ahead=3) == [
        D(2026, 12, 1),
        D(2027, 1, 1),
        D(2027, 2, 1),
        D(2027, 3, 1),
    ]


def test_only_the_months_after_the_newest_partition_are_added():
    existing = ["p202611", "p202612", "p202701", "pmax"]
    assert partitions_to_add(existing, D(2026, 12, 31), ahead=3) == [D(2027, 2, 1), D(2027, 3, 1)]


def test_nothing_is_added_when_the_months_ahead_exist():
    assert partitions_to_add(["p202612", "p202701", "pmax"], D(2026, 12, 3), ahead=1) == []


def test_a_gap_before_the_newest_partition_is_left_alone():
    # p202512 is missing: its days live in p202601, which is correct; RANGE can only split pmax.
    assert partitions_to_add(["p202511", "p202601", "pmax"], D(2025, 12, 15), ahead=1) == []


def test_other_names_are_ignored_and_ahead_must_not_be_negative():
    assert month_of_partition("pmax") is None and month_of_partition("p2026") is None
    assert month_of_partition("p202602") == D(2026, 2, 1)
    with pytest.raises(ValueError):
        partitions_to_add([], D(2026, 1, 1), ahead=-1)


def test_a_partition_holds_the_days_before_the_first_of_the_next_month():
    assert partition_clause(D(2026, 12, 1)) == "PARTITION p202612 VALUES LESS THAN ('2027-01-01')"
