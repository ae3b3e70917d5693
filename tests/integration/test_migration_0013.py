"""Migration 0013 on MariaDB and SQLite: play_day_counts is filled from the plays already
stored (counted here by hand), ix_plays_day_arrival goes, and a downgrade restores both."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from services.common import db
from services.common.settings import Settings
from services.video import play_counts
from tests.databases import fresh_database

# (play_id, local_day): three plays on one day, one on another.
STORED = [(1, "2025-11-24"), (2, "2025-11-25"), (3, "2025-11-24"), (4, "2025-11-24")]


def _indexes(engine: sa.Engine) -> set[str]:
    return {i["name"] for i in sa.inspect(engine).get_indexes("plays")}


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_day_counts_are_filled_from_the_stored_plays_and_downgrade(backend, tmp_path):
    with fresh_database(backend, "paysystem_m13_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0012")
            assert "ix_plays_day_arrival" in _indexes(engine)
            assert "play_day_counts" not in sa.inspect(engine).get_table_names()
            with engine.begin() as conn:
                for play_id, day in STORED:
                    conn.execute(
                        sa.text(
                            "INSERT INTO plays (play_id, event_id, video_id, viewer_id, started_at_us,"
                            " local_day, start_position_sec, end_position_sec, received_at_us)"
                            f" VALUES ({play_id}, 'e{play_id}', 1, 2, 0, '{day}', 0, 30, 0)"
                        )
                    )
            migrations.migrate(engine)
            with engine.connect() as conn:
                assert play_counts.per_day(conn) == {dt.date(2025, 11, 24): 3, dt.date(2025, 11, 25): 1}
            assert "ix_plays_day_arrival" not in _indexes(engine)
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0012")
            assert "ix_plays_day_arrival" in _indexes(engine)
            assert "play_day_counts" not in sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()
