"""Read replicas without servers: the settings, the lag arithmetic and the batch's minimum wait
(services/readpath/replicas.py says why the wait must outlast the max lag)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.common.settings import Settings
from services.readpath.replicas import (
    HEALTH_CHECK_SEC,
    HEARTBEAT_INTERVAL_SEC,
    CatchUp,
    Heartbeat,
    lag_ms,
    min_wait_sec,
    replica_name,
)


def test_read_urls_are_split_on_commas_and_empty_means_none():
    assert Settings().read_urls == ()
    settings = Settings(db_read_urls=" mysql+pymysql://u@r1:3307/ps , mysql+pymysql://u@r2/ps,")
    assert settings.read_urls == ("mysql+pymysql://u@r1:3307/ps", "mysql+pymysql://u@r2/ps")


def test_a_read_url_that_is_not_a_url_stops_start_up_with_the_variable_s_name():
    with pytest.raises(ValidationError, match="PAYSYSTEM_DB_READ_URLS"):
        Settings(db_read_urls="replica-1")


def test_a_replica_is_named_without_its_password():
    assert replica_name("mysql+pymysql://paysystem:secret@mysql-replica:3306/paysystem") == (
        "mysql-replica:3306/paysystem"
    )
    assert replica_name("mysql+pymysql://root@10.0.0.7/ps") == "10.0.0.7:3306/ps"


def test_lag_is_now_minus_the_heartbeat_and_infinite_before_the_first_one():
    assert lag_ms(Heartbeat(seq=3, beat_us=1_000_000), now_us=1_250_000) == 250.0
    assert lag_ms(Heartbeat(seq=3, beat_us=2_000_000), now_us=1_000_000) == 0.0  # clocks a little apart
    assert lag_ms(None) == float("inf")


@pytest.mark.parametrize("max_lag_ms", [0, 500, 2000, 60_000])
def test_the_batch_waits_longer_than_a_replica_can_stay_in_use_while_behind(max_lag_ms):
    # A replica that has not applied the job's bump shows a heartbeat older than the bump, so
    # after the wait its lag exceeds the max lag, plus a check and a heartbeat of slack.
    assert min_wait_sec(max_lag_ms) >= max_lag_ms / 1000 + HEALTH_CHECK_SEC + HEARTBEAT_INTERVAL_SEC


def test_the_final_event_says_which_replica_has_the_figures_and_which_is_out_of_use():
    assert CatchUp("r1:3306/ps", True, 0.042).describe() == "replica r1:3306/ps applied it after 0.04 s"
    text = CatchUp("r2:3306/ps", False, 10.01, "OperationalError: refused").describe()
    assert (
        text
        == "replica r2:3306/ps had not applied it after 10.0 s (OperationalError: refused): out of use until it catches up"
    )
