"""The fake play log (tests/fakes/video.py's FakePlayLog) answers as the SQL one
(services/video/sql_play_log.py over repository.py) does: one scenario of PlayLog calls
against both, on MariaDB and SQLite, with equal answers, resume positions and day counts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from services.account.tables import accounts
from services.video import play_counts, repository
from services.video.ports import PlayLog, StoredResume
from services.video.sql_play_log import SqlPlayLog
from services.video.tables import archived_months, resume_positions, videos
from tests.databases import fresh_engine
from tests.fakes.video import FakePlayLog

T0 = 1_700_000_000_000_000
MIN = 60_000_000
DURATIONS = {1: 600, 2: 61}  # the SQL videos get ids 1 and 2 in a fresh database
ACCOUNTS = {20, 21}
ARCHIVED = "2023-10"


def row(event_id: str, video: int, viewer: int, at: int, day: str, start: int, end: int) -> tuple:
    return (event_id, video, viewer, at, day, start, end)


def scenario(log: PlayLog) -> list[object]:
    answers: list[object] = [
        log.durations([2, 1, 99]),
        log.durations([]),
        log.existing_accounts([21, 20, 77]),
        log.existing_accounts([]),
    ]
    day = "2023-11-14"
    first = [
        row("a", 1, 20, T0, day, 0, 100),
        row("b", 1, 20, T0 + MIN, day, 100, 200),
        row("c", 2, 21, T0, "2023-11-13", 0, 61),
    ]
    answers.append(log.store(first, DURATIONS, T0 + 5))
    answers.append(log.store(first, DURATIONS, T0 + 6))  # all exist: the stored contents
    second = [
        row("a", 1, 20, T0, day, 0, 100),  # a duplicate
        row("b", 1, 20, T0 + MIN, day, 100, 201),  # a conflict: the stored content comes back
        row("d", 1, 20, T0 + MIN, day, 0, 50),  # same start as "b", bigger event_id: the newest
        row("e", 1, 21, T0 - 30 * MIN, "2023-10-31", 0, 10),  # archived month
        row("f", 2, 21, T0 - MIN, day, 5, 30),  # older than "c": no move
    ]
    answers.append(log.store(second, DURATIONS, T0 + 7))
    answers.append(log.store([row("g", 1, 21, T0, "2023-10-01", 0, 1)], DURATIONS, T0 + 8))  # only archived
    answers.append(log.store([], DURATIONS, T0 + 9))
    return answers


def test_the_fake_answers_the_scenario():
    log = FakePlayLog(DURATIONS, ACCOUNTS, {ARCHIVED})
    answers = scenario(log)
    assert answers[:4] == [{2: 61, 1: 600}, {}, {20, 21}, set()]
    assert answers[4] == ({"a", "b", "c"}, {}, set())
    assert answers[5] == (
        set(),
        {"a": (1, 20, T0, 0, 100), "b": (1, 20, T0 + MIN, 100, 200), "c": (2, 21, T0, 0, 61)},
        set(),
    )
    assert answers[6] == ({"d", "f"}, {"a": (1, 20, T0, 0, 100), "b": (1, 20, T0 + MIN, 100, 200)}, {"e"})
    assert answers[7] == (set(), {}, {"g"})
    assert log.resume_position(20, 1) == StoredResume(50, T0 + 7)
    assert log.resume_position(21, 2) == StoredResume(0, T0 + 5)
    assert log.resume_position(21, 1) is None
    assert log.day_counts == {"2023-11-14": 4, "2023-11-13": 1}


# SQLite always inserts with RETURNING: the forced MySQL 8 strategy is a MariaDB case only.
@pytest.mark.parametrize(
    ("backend", "strategy"),
    [("mariadb", None), ("mariadb", repository.SELECT_THEN_INSERT), ("sqlite", None)],
)
def test_the_sql_play_log_answers_as_the_fake(backend, strategy, tmp_path):
    fake = FakePlayLog(DURATIONS, ACCOUNTS, {ARCHIVED})
    expected = scenario(fake)
    with fresh_engine(backend, "paysystem_ingest_ports_", tmp_path) as engine:
        with engine.begin() as conn:
            for video_id in sorted(DURATIONS):
                conn.execute(
                    sa.insert(videos).values(
                        seller_id=7, title=f"v{video_id}", duration_sec=DURATIONS[video_id], created_at_us=T0
                    )
                )
            for account_id in sorted(ACCOUNTS):
                conn.execute(
                    sa.insert(accounts).values(
                        account_id=account_id,
                        username=f"u{account_id}",
                        password_hash="x",
                        role="VIEWER",
                        created_at_us=0,
                    )
                )
            conn.execute(
                sa.insert(archived_months).values(
                    month=dt.date.fromisoformat(ARCHIVED + "-01"), status="archived", file_name="x", marked_at_us=0
                )
            )
        answers = scenario(SqlPlayLog(engine, exact_strategy=strategy))
        with engine.connect() as conn:
            resumes = {
                (r.viewer_id, r.video_id): (r.position_sec, r.started_at_us, r.event_id, r.updated_at_us)
                for r in conn.execute(sa.select(resume_positions))
            }
            counts = {day.isoformat(): n for day, n in play_counts.per_day(conn).items()}
    assert answers == expected
    assert resumes == fake.resumes
    assert counts == dict(fake.day_counts)
