"""Migration 0007 on MariaDB and SQLite: rows computed before it read 0 in the new per-rule
columns, and it downgrades cleanly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from batch.tables import RULE_EXCLUSION_COLUMNS
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_existing_rows_get_zero_exclusions_and_the_migration_downgrades(backend, tmp_path):
    with fresh_database(backend, "paysystem_m6_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0006")
            assert not set(RULE_EXCLUSION_COLUMNS) & _columns(engine, "daily_video_stats")
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO daily_video_stats (video_id, day, seller_id, views, watch_time_sec, ad_views,"
                        " cum_views, cum_ad_views, video_revenue, ad_revenue) VALUES (1, '2026-11-02', 2, 3, 4, 5, 3, 5, 3, 50)"
                    )
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO period_video_stats (period, period_start, video_id, seller_id, views, watch_time_sec,"
                        " ad_views, video_revenue, ad_revenue) VALUES ('WEEKLY', '2026-11-02', 1, 2, 3, 4, 5, 3, 50)"
                    )
                )
            migrations.migrate(engine)
            with engine.connect() as conn:
                for table in ("daily_video_stats", "period_video_stats"):
                    row = conn.execute(sa.text(f"SELECT views, {', '.join(RULE_EXCLUSION_COLUMNS)} FROM {table}")).one()
                    assert tuple(row) == (3, *[0] * len(RULE_EXCLUSION_COLUMNS))  # 0015 too
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0006")
            assert not set(RULE_EXCLUSION_COLUMNS) & _columns(engine, "period_video_stats")
        finally:
            engine.dispose()
