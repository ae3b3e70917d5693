"""Migration 0017 (maker-checker and idempotency keys) on MariaDB and SQLite: a closing made
before it reads as not approved, idempotency_keys is keyed by caller and key (compared byte
by byte), and a downgrade removes both."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_old_closings_are_not_approved_and_the_key_table_comes_and_goes(backend, tmp_path):
    with fresh_database(backend, "paysystem_m17_", tmp_path) as url:
        engine = db.make_engine(Settings(db_url=url))
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0015")
            assert "idempotency_keys" not in sa.inspect(engine).get_table_names()
            with engine.begin() as conn:
                # The closing as 0015 knew it (Core quotes `lines`, a reserved word on MariaDB).
                figures = {"closed_at_us": 1, "closed_by": 7, "sellers": 0, "lines": 0, "earnings": 0}
                figures |= {"adjustment_lines": 0, "adjustments": 0, "payouts_created": 0, "payouts_krw": 0}
                closings = sa.table("month_closings", sa.column("month"), *map(sa.column, figures))
                conn.execute(sa.insert(closings).values(month=dt.date(2026, 10, 1), **figures))
            migrations.migrate(engine)
            with engine.connect() as conn:
                row = conn.execute(sa.text("SELECT closed_by, approved_by, approved_at_us FROM month_closings")).one()
            assert tuple(row) == (7, None, None)
            key = sa.inspect(engine).get_pk_constraint("idempotency_keys")["constrained_columns"]
            assert key == ["account_id", "idem_key"]
            insert = sa.text(
                "INSERT INTO idempotency_keys (account_id, idem_key, method, request_sha256, created_at_us)"
                " VALUES (1, :k, 'MarkPayout', 'a', 1)"
            )
            with engine.begin() as conn:
                for k in ("key", "KEY", "key "):  # no case folding, no padding
                    conn.execute(insert, {"k": k})
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(insert, {"k": "key"})
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(conn), "0015")
            assert "idempotency_keys" not in sa.inspect(engine).get_table_names()
            columns = {c["name"] for c in sa.inspect(engine).get_columns("month_closings")}
            assert not columns & {"approved_by", "approved_at_us"}
        finally:
            engine.dispose()
