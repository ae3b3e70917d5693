"""DataVersionWatch: when a reading is trusted, when a request reads the version itself, and
the publication delay that makes a finished job's figures visible everywhere."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest

from batch.data_state import publication_delay_sec
from services.readpath.dataversion import DataState, DataVersionWatch


class Versions:
    """What the database would answer: a version that tests change, and the queries made."""

    def __init__(self) -> None:
        self.version = 1
        self.queries = 0
        self.down = False
        self.lock = threading.Lock()

    def read(self) -> DataState:
        with self.lock:
            self.queries += 1
            if self.down:
                raise ConnectionError("database down")
            return DataState(version=str(self.version), data_through=dt.date(2026, 1, self.version))


@contextlib.contextmanager
def watching(db: Versions, *, poll_sec: float, max_age_sec: float):
    """A watch on `db` that is closed (its poll thread stopped) however the test ends."""
    watch = DataVersionWatch(db.read, poll_sec=poll_sec, max_age_sec=max_age_sec)
    try:
        yield watch
    finally:
        watch.close()


def test_with_no_max_age_every_request_reads_the_version_itself():
    db = Versions()
    watch = DataVersionWatch(db.read, poll_sec=0, max_age_sec=0.3)
    assert [watch.current().version for _ in range(3)] == ["1", "1", "1"]
    assert db.queries == 3
    db.version = 2
    assert watch.current().version == "2"


def test_a_fresh_reading_is_reused_and_the_poll_follows_a_new_version():
    db = Versions()
    with watching(db, poll_sec=0.02, max_age_sec=0.5) as watch:
        assert watch.current().version == "1"
        before = db.queries
        for _ in range(100):
            assert watch.current().version == "1"
        assert db.queries - before < 10  # the background poll, not one query per call
        db.version = 2
        time.sleep(0.1)
        assert watch.current().version == "2"


def test_after_the_publication_delay_no_request_gets_a_version_read_before_the_commit():
    # The poll is stalled (a slow thread): the last reading ages past max_age, so the
    # request reads the version itself instead of trusting it.
    db = Versions()
    with watching(db, poll_sec=3600, max_age_sec=0.2) as watch:
        assert watch.current().version == "1"
        db.version = 2  # the batch commits
        assert watch.current().version == "1"  # still trusted: within max_age
        time.sleep(publication_delay_sec(200))  # the batch waits before its final event
        assert watch.current().version == "2"


def test_while_the_database_is_down_a_stale_reading_is_not_used_and_the_error_reaches_the_caller():
    db = Versions()
    with watching(db, poll_sec=0.02, max_age_sec=0.1) as watch:
        watch.current()
        db.down = True
        time.sleep(0.2)
        with pytest.raises(ConnectionError):
            watch.current()
        db.down = False
        db.version = 3
        assert watch.current().version == "3"


def test_an_older_reading_never_replaces_a_newer_one():
    # Two readers race: the one whose query was sent first must not overwrite the other.
    db = Versions()
    watch = DataVersionWatch(db.read, poll_sec=3600, max_age_sec=10)
    release = threading.Event()
    slow_state = DataState("old", None)

    def slow_read():
        release.wait(5)
        return slow_state

    watch._read_state = slow_read
    slow = threading.Thread(target=watch.refresh)
    slow.start()  # sent first, answers last
    time.sleep(0.05)
    watch._read_state = db.read
    assert watch.refresh().version == "1"
    release.set()
    slow.join(5)
    assert watch.current().version == "1"
    watch.close()


def test_the_publication_delay_is_longer_than_the_max_age_or_zero():
    assert publication_delay_sec(300) > 0.3
    assert publication_delay_sec(0) == 0
