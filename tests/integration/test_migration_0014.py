"""Migration 0014 on MariaDB and SQLite: play_event_ids is filled from the plays already
stored, event_id is no longer unique in plays (its uniqueness is play_event_ids'), MariaDB's
plays is partitioned by month with pmax and keyed (play_id, local_day), and a downgrade
restores the unique key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from services.common import db
from services.common.settings import Settings
from services.video import partitions as plays_partitions
from tests.databases import fresh_database

STORED = [(1, "2025-11-24"), (2, "2025-12-25"), (3, "2025-11-24")]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_event_ids_are_filled_from_the_stored_plays_and_downgrade(backend, tmp_path):
    with fresh_database(backend, "paysystem_m14_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0013")
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
                ids = conn.execute(sa.text("SELECT event_id, local_day FROM play_event_ids ORDER BY event_id")).all()
                assert [(e, str(d)) for e, d in ids] == [(f"e{i}", d) for i, d in STORED]
                names = plays_partitions.existing_partitions(conn)
            uniques = sa.inspect(engine).get_unique_constraints("plays")
            assert not [u for u in uniques if u["column_names"] == ["event_id"]]
            if backend == "mariadb":
                assert names[0] == "p202511" and "p202512" in names and names[-1] == "pmax"
                assert sa.inspect(engine).get_pk_constraint("plays")["constrained_columns"] == ["play_id", "local_day"]
            else:
                assert names == []
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0013")
            assert "play_event_ids" not in sa.inspect(engine).get_table_names()
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                        " start_position_sec, end_position_sec, received_at_us)"
                        " VALUES ('e1', 1, 2, 0, '2025-11-24', 0, 30, 0)"
                    )
                )
        finally:
            engine.dispose()
