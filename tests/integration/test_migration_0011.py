"""Migration 0011 on MariaDB and SQLite: plays gets ix_plays_started (started_at_us), the
index the schema declares, and loses it again on downgrade; the plays stay as they were."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from services.common import db
from services.common.settings import Settings
from services.video.tables import plays
from tests.databases import fresh_database


def _indexes(engine: sa.Engine) -> dict[str, tuple[str, ...]]:
    return {i["name"]: tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("plays")}


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_plays_started_index_is_added_as_declared_and_downgrades(backend, tmp_path):
    with fresh_database(backend, "paysystem_m11_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            declared = {ix.name: tuple(c.name for c in ix.columns) for ix in plays.indexes}
            assert declared["ix_plays_started"] == ("started_at_us",)
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0010")
            assert "ix_plays_started" not in _indexes(engine)
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO plays (play_id, event_id, video_id, viewer_id, started_at_us, local_day,"
                        " start_position_sec, end_position_sec, received_at_us)"
                        " VALUES (7, 'e7', 1, 2, 1764000000000000, '2025-11-25', 0, 30, 1764000000000001)"
                    )
                )
            migrations.migrate(engine)
            assert {name: cols for name, cols in _indexes(engine).items() if name in declared} == declared
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT play_id, started_at_us FROM plays")).all() == [
                    (7, 1764000000000000)
                ]
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0010")
            assert "ix_plays_started" not in _indexes(engine)
        finally:
            engine.dispose()
