"""Event ids are compared byte by byte on MariaDB (migration 0005: utf8mb4_nopad_bin, a NO PAD
binary collation; utf8mb4_bin was PAD SPACE, so 'a' and 'a ' were one key)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.databases import fresh_engine
from tests.plugins.jobs import add_plays, play

MON = dt.date(2026, 11, 2)
IDS = ["a", "a ", "a\t", "a  b", "A"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("event_id_collation")
    with fresh_engine("mariadb", "paysystem_collation_", tmp) as engine:
        yield engine


def test_event_id_columns_use_the_no_pad_binary_collation(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name, collation_name FROM information_schema.columns"
                " WHERE table_schema = DATABASE() AND column_name = 'event_id'"
                # text columns only: the webhooks' event_id is a number the outbox assigns
                " AND data_type IN ('char', 'varchar', 'text', 'binary', 'varbinary')"
                " ORDER BY table_name"
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("play_event_ids", "utf8mb4_nopad_bin"),
        ("plays", "utf8mb4_nopad_bin"),
        ("resume_positions", "utf8mb4_nopad_bin"),
        ("stream_limited_plays", "utf8mb4_nopad_bin"),
    ]


def test_ids_differing_only_by_trailing_whitespace_are_distinct_keys_in_byte_order(engine):
    add_plays(engine, [play(event_id, 1, 1 + i, MON, 60 * i) for i, event_id in enumerate(IDS)])
    with engine.connect() as conn:
        ordered = conn.execute(sa.text("SELECT event_id FROM plays ORDER BY event_id")).scalars().all()
        exact = conn.execute(sa.text("SELECT event_id FROM plays WHERE event_id = 'a'")).scalars().all()
    with pytest.raises(sa.exc.IntegrityError):  # the same bytes again are the same key
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    # event_id's unique key (migration 0014)
                    "INSERT INTO play_event_ids (event_id, local_day) VALUES ('a ', '2026-11-02')"
                )
            )
    assert ordered == sorted(IDS, key=lambda s: s.encode())  # A, a, a\t, a , a  b
    assert exact == ["a"]
