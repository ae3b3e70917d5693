"""Migration 0015 (the stream limit) on MariaDB and SQLite: existing daily and period rows
read excluded_stream_limit 0 until their day is recomputed, stream_limited_plays is created
keyed by day first, and a downgrade removes both."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_existing_rows_read_zero_and_the_table_of_limited_plays_comes_and_goes(backend, tmp_path):
    with fresh_database(backend, "paysystem_m15_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0014")
            assert "stream_limited_plays" not in sa.inspect(engine).get_table_names()
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO daily_video_stats (video_id, day, seller_id, views, watch_time_sec, ad_views,"
                        " cum_views, cum_ad_views, video_revenue, ad_revenue) VALUES (1, '2026-11-02', 2, 3, 4, 5, 3, 5, 3, 50)"
                    )
                )
            migrations.migrate(engine)
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT excluded_stream_limit FROM daily_video_stats")).scalar_one() == 0
            key = sa.inspect(engine).get_pk_constraint("stream_limited_plays")["constrained_columns"]
            assert key == ["local_day", "video_id", "viewer_id", "started_at_us", "event_id"]
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0014")
            assert "stream_limited_plays" not in sa.inspect(engine).get_table_names()
            columns = {c["name"] for c in sa.inspect(engine).get_columns("period_video_stats")}
            assert "excluded_stream_limit" not in columns
        finally:
            engine.dispose()
