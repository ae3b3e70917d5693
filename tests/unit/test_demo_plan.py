"""The demo's choice of history and folder (entrypoints/cli/demo_plan.py), on every day of the
years around a leap year, and the business clock's test setting (services/common/clock.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from entrypoints.cli.demo_plan import Marker, choose_folder, plan_history, read_marker, write_marker
from services.common.settings import Settings

PARAMETERS = {"plays": 10, "months": 2, "videos": 3, "viewers": 4, "sellers": 1, "timezone": "UTC", "random_seed": 7}


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("months", [2, 3])
def test_every_day_the_closed_months_have_ended_and_the_history_ends_yesterday(months):
    for today in _days(dt.date(2023, 12, 1), dt.date(2025, 1, 31)):
        history = plan_history(today, months)
        first, second = history.closed_months
        assert history.last_day == today - dt.timedelta(days=1)
        assert history.first_day == first and first.day == 1
        # Both months lie wholly in the history and ended before today.
        assert second.day == 1 and (second - first).days in (28, 29, 30, 31)
        second_end = dt.date(second.year + second.month // 12, second.month % 12 + 1, 1) - dt.timedelta(days=1)
        assert second_end < today and second_end <= history.last_day
        # Today's month is never closed, and the history starts `months` months before it.
        assert (today.year, today.month) not in {(m.year, m.month) for m in history.closed_months}
        assert (today.year * 12 + today.month) - (first.year * 12 + first.month) == months


def test_awkward_days():
    assert plan_history(dt.date(2024, 2, 29)).closed_months == (dt.date(2023, 12, 1), dt.date(2024, 1, 1))
    assert plan_history(dt.date(2025, 1, 1)).closed_months == (dt.date(2024, 11, 1), dt.date(2024, 12, 1))
    on_first = plan_history(dt.date(2024, 3, 1))
    assert on_first.last_day == dt.date(2024, 2, 29) and on_first.closed_months[1] == dt.date(2024, 2, 1)
    assert "2024-01 and 2024-02 have ended" in on_first.why(dt.date(2024, 3, 1), "UTC")


def test_fewer_than_two_months_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        plan_history(dt.date(2024, 5, 5), 1)


def test_an_empty_folder_is_seeded_a_same_parameters_demo_is_reused(tmp_path):
    today = dt.date(2024, 5, 5)
    fresh = choose_folder(tmp_path / "data", PARAMETERS, today, 2, embedded=True)
    assert (fresh.data_dir, fresh.reused, fresh.moved) == (tmp_path / "data", False, False)
    write_marker(fresh.data_dir, Marker(PARAMETERS, fresh.history, seeded=True))
    # A later day: the same history as the first run, not one chosen from the new date.
    again = choose_folder(tmp_path / "data", PARAMETERS, dt.date(2024, 8, 1), 2, embedded=True)
    assert again.reused and again.history == fresh.history and again.data_dir == fresh.data_dir
    assert again.message.startswith("Reusing")


def test_an_interrupted_seed_is_completed_in_place(tmp_path):
    history = plan_history(dt.date(2024, 5, 5))
    write_marker(tmp_path, Marker(PARAMETERS, history, seeded=False))
    choice = choose_folder(tmp_path, PARAMETERS, dt.date(2024, 5, 6), 2, embedded=True)
    assert choice.reused and choice.data_dir == tmp_path and "interrupted" in choice.message
    assert read_marker(tmp_path) == Marker(PARAMETERS, history, seeded=False)


def test_other_data_is_left_alone_and_the_new_folder_is_reused_next_time(tmp_path):
    data = tmp_path / ".paysystem"
    data.mkdir()
    (data / "paysystem.db").write_bytes(b"someone's data")
    choice = choose_folder(data, PARAMETERS, dt.date(2024, 5, 5), 2, embedded=True)
    assert choice.data_dir == tmp_path / ".paysystem-2" and choice.moved and not choice.reused
    assert "holds data of its own" in choice.message and str(choice.data_dir) in choice.message
    write_marker(choice.data_dir, Marker(PARAMETERS, choice.history, seeded=True))
    again = choose_folder(data, PARAMETERS, dt.date(2024, 5, 9), 2, embedded=True)
    assert again.data_dir == choice.data_dir and again.reused and again.moved
    # Other parameters: neither folder is theirs.
    other = choose_folder(data, {**PARAMETERS, "plays": 11}, dt.date(2024, 5, 9), 2, embedded=True)
    assert other.data_dir == tmp_path / ".paysystem-3" and not other.reused


def test_a_demo_with_other_parameters_is_left_alone(tmp_path):
    write_marker(tmp_path / "d", Marker(PARAMETERS, plan_history(dt.date(2024, 5, 5)), seeded=True))
    choice = choose_folder(
        tmp_path / "d", {**PARAMETERS, "timezone": "Asia/Seoul"}, dt.date(2024, 5, 5), 2, embedded=True
    )
    assert choice.data_dir == tmp_path / "d-2" and "other parameters" in choice.message


def test_the_test_clock_is_refused_without_the_test_flag():
    with pytest.raises(ValueError, match="for tests only"):
        Settings(test_now="2024-02-29T12:00:00")
    with pytest.raises(ValueError, match="not an ISO 8601 instant"):
        Settings(test_now="29/02/2024", test_mode=True)


def test_the_test_clock_is_local_to_the_platform_zone_unless_it_has_an_offset():
    seoul = Settings(test_now="2024-03-01T00:30:00", test_mode=True, timezone="Asia/Seoul")
    assert seoul.test_now_us == int(dt.datetime(2024, 2, 29, 15, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000
    offset = Settings(test_now="2024-03-01T00:30:00+00:00", test_mode=True, timezone="Asia/Seoul")
    assert offset.test_now_us == int(dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert Settings().test_now_us is None
