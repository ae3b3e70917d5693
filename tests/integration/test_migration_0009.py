"""Migration 0009: SQLite's float money columns become exact text (the amounts written, for
every amount a float held exactly); on MariaDB nothing changes; it downgrades cleanly."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from batch.tables import daily_video_stats, period_video_stats
from services.common import db
from services.common.settings import Settings
from services.settlement.tables import tier_prices
from tests.databases import fresh_database

# Amounts as the batch stored them before 0009 (SQL literals; on SQLite as REAL or INTEGER).
AMOUNTS = ["0.1", "810000.0", "-0.0001", "1.0375", "123456789012.3456", "0"]
MONEY = {
    "daily_video_stats": ("video_revenue", "ad_revenue"),
    "period_video_stats": ("video_revenue", "ad_revenue"),
    "tier_prices": ("unit_price",),
}


def _layout(engine: sa.Engine) -> dict:
    inspector = sa.inspect(engine)
    return {
        table: (
            [(c["name"], c["nullable"]) for c in inspector.get_columns(table)],
            sorted(tuple(i["column_names"]) for i in inspector.get_indexes(table)),
            inspector.get_pk_constraint(table)["constrained_columns"],
        )
        for table in MONEY
    }


def _typeofs(conn: sa.Connection) -> set[str]:
    return {
        kind
        for table, columns in MONEY.items()
        for column in columns
        for kind in conn.execute(sa.text(f"SELECT DISTINCT typeof({column}) FROM {table}")).scalars()
    }


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_money_columns_become_exact_text_on_sqlite_and_the_migration_downgrades(backend, tmp_path):
    with fresh_database(backend, "money_m9_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0008")
            before = _layout(engine)
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM tier_prices"))
                for i, amount in enumerate(AMOUNTS):
                    conn.execute(
                        sa.text(
                            "INSERT INTO daily_video_stats (video_id, day, seller_id, views, watch_time_sec, ad_views,"
                            f" cum_views, cum_ad_views, video_revenue, ad_revenue) VALUES ({i}, '2026-11-02', 2, 3, 4,"
                            f" 5, 3, 5, {amount}, -({amount}))"
                        )
                    )
                    conn.execute(
                        sa.text(
                            "INSERT INTO period_video_stats (period, period_start, video_id, seller_id, views,"
                            f" watch_time_sec, ad_views, video_revenue, ad_revenue) VALUES ('WEEKLY', '2026-11-02',"
                            f" {i}, 2, 3, 4, 5, {amount}, {amount})"
                        )
                    )
                    price = amount if amount != "123456789012.3456" else "12345678.9012"  # DECIMAL(12, 4)
                    conn.execute(
                        sa.text(
                            "INSERT INTO tier_prices (kind, effective_from, lower_bound, unit_price)"
                            f" VALUES ('VIEW', '2026-01-01', {i}, {price})"
                        )
                    )
                if backend == "sqlite":
                    assert _typeofs(conn) == {"real", "integer"}  # what 0009 is for
            with engine.begin() as conn:
                # 0009 only: later migrations add columns of their own (0015: excluded_stream_limit).
                command.upgrade(migrations.alembic_config(conn), "0009")
            assert _layout(engine) == before  # same columns, order, nullability, keys, indexes
            with engine.connect() as conn:
                if backend == "sqlite":
                    assert _typeofs(conn) == {"text"}
                    stored = conn.execute(sa.text("SELECT video_revenue FROM daily_video_stats ORDER BY video_id"))
                    assert list(stored.scalars()) == [
                        "0.1000",
                        "810000.0000",
                        "-0.0001",
                        "1.0375",
                        "123456789012.3456",
                        "0.0000",
                    ]
                d, p, t = daily_video_stats.c, period_video_stats.c, tier_prices.c
                daily = conn.execute(sa.select(d.video_revenue, d.ad_revenue).order_by(d.video_id)).all()
                period = conn.execute(sa.select(p.video_revenue, p.ad_revenue).order_by(p.video_id)).all()
                prices = conn.execute(sa.select(t.unit_price).order_by(t.lower_bound)).scalars().all()
            assert daily == [(Decimal(a), -Decimal(a)) for a in AMOUNTS]
            assert period == [(Decimal(a), Decimal(a)) for a in AMOUNTS]
            assert prices == [Decimal(a if a != "123456789012.3456" else "12345678.9012") for a in AMOUNTS]
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0008")
            assert _layout(engine) == before
            with engine.connect() as conn:
                if backend == "sqlite":
                    assert _typeofs(conn) == {"real", "integer"}
                rows = conn.execute(sa.text("SELECT COUNT(*) FROM daily_video_stats")).scalar_one()
            assert rows == len(AMOUNTS)
            migrations.migrate(engine)  # and up again
        finally:
            engine.dispose()
