"""Migration 0022 on MariaDB and SQLite: a retention row written as 0021's 100 counts reads as
the same counts after it (point:delta pairs), and a downgrade gives the 100 counts back."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from domain.retention import decode_points
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database

DAY = dt.date(2026, 11, 2)
COUNTS = (3,) * 40 + (1,) * 17 + (0,) * 43


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_counts_become_deltas_and_back(backend, tmp_path):
    with fresh_database(backend, "paysystem_m22_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0021")
            old = sa.table(
                "video_daily_retention", *map(sa.column, ("video_id", "views", "points")), sa.column("day", sa.Date)
            )
            with engine.begin() as conn:
                conn.execute(
                    sa.insert(old),
                    [
                        {"video_id": 1, "day": DAY, "views": 3, "points": ",".join(map(str, COUNTS))},
                        {"video_id": 2, "day": DAY, "views": 0, "points": ",".join(["0"] * 100)},
                    ],
                )
            migrations.migrate(engine)
            with engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT video_id, point_deltas FROM video_daily_retention")).all())
            assert rows == {1: "0:3,40:-2,57:-1", 2: ""}
            assert decode_points(rows[1]) == COUNTS
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0021")
            with engine.connect() as conn:
                back = dict(conn.execute(sa.text("SELECT video_id, points FROM video_daily_retention")).all())
            assert back == {1: ",".join(map(str, COUNTS)), 2: ",".join(["0"] * 100)}
        finally:
            engine.dispose()
